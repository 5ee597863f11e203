"""``duplicate_frame`` (WebSocket-aware): one data frame sent twice."""

from __future__ import annotations

from typing import Any, ClassVar

from wsresilience.faultproxy.toxics.model import int_attr, register
from wsresilience.faultproxy.toxics.stage import FrameStage
from wsresilience.faultproxy.wsframes import Frame


@register("duplicate_frame")
class DuplicateFrame(FrameStage):
    """Send the ``frame``-th data frame (1-based) twice."""

    DEFAULTS: ClassVar[dict[str, Any]] = {"frame": 1}

    @classmethod
    def check_attributes(cls, attributes: dict[str, Any]) -> dict[str, Any]:
        attributes["frame"] = int_attr(attributes, "frame", minimum=1)
        return attributes

    def on_data(self, frame: Frame, index: int) -> list[Frame]:
        return [frame, frame] if index == self.attrs["frame"] else [frame]
