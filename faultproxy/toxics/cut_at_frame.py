"""``cut_at_frame`` (WebSocket-aware): a reset instead of a chosen data frame."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from wsresilience.faultproxy.toxics.model import ToxicError, int_attr, register
from wsresilience.faultproxy.toxics.stage import FrameStage
from wsresilience.faultproxy.wsframes import OP_TEXT, Frame


@register("cut_at_frame")
class CutAtFrame(FrameStage):
    """Reset the connection instead of delivering a chosen data frame.

    The frame is the ``frame``-th data frame (1-based), or, when ``field`` is set,
    the first JSON text frame whose top-level ``field`` is a number ``>= value``
    (e.g. ``{"field": "seq", "value": 5}``). Frames before it are delivered; it and
    everything after are not. Compressed (permessage-deflate) frames are opaque to
    the JSON match.
    """

    DEFAULTS: ClassVar[dict[str, Any]] = {"frame": 1, "field": "", "value": 0}

    @classmethod
    def check_attributes(cls, attributes: dict[str, Any]) -> dict[str, Any]:
        attributes["frame"] = int_attr(attributes, "frame", minimum=1)
        if not isinstance(attributes["field"], str):
            raise ToxicError(f"attribute field: expected a string, got {attributes['field']!r}")
        value = attributes["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ToxicError(f"attribute value: expected a number, got {value!r}")
        return attributes

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cut = False

    def _matches(self, frame: Frame, index: int) -> bool:
        field_name = self.attrs["field"]
        if not field_name:
            return index == self.attrs["frame"]
        if frame.opcode != OP_TEXT or not frame.fin or frame.rsv1:
            return False
        try:
            message = json.loads(frame.unmasked_payload())
        except (ValueError, UnicodeDecodeError):
            return False
        if not isinstance(message, dict):
            return False
        seen = message.get(field_name)
        return isinstance(seen, (int, float)) and not isinstance(seen, bool) and seen >= self.attrs["value"]

    def on_frame(self, frame: Frame) -> list[Frame]:
        if self.cut:
            return []
        return super().on_frame(frame)

    def on_data(self, frame: Frame, index: int) -> list[Frame]:
        if self._matches(frame, index):
            self.cut = True
            self.reset_requested = True
            return []
        return [frame]
