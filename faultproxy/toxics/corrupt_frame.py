"""``corrupt_frame`` (WebSocket-aware): one payload byte of a data frame flipped."""

from __future__ import annotations

from typing import Any, ClassVar

from wsresilience.faultproxy.toxics.model import ToxicError, int_attr, register
from wsresilience.faultproxy.toxics.stage import FrameStage
from wsresilience.faultproxy.wsframes import Frame


@register("corrupt_frame")
class CorruptFrame(FrameStage):
    """XOR one payload byte (``offset``, wrapped to the payload) of the ``frame``-th data
    frame with ``xor``. On masked (client) frames, flipping bits of the masked byte
    flips the same bits of the unmasked byte, so the corruption survives unmasking."""

    DEFAULTS: ClassVar[dict[str, Any]] = {"frame": 1, "offset": 0, "xor": 255}

    @classmethod
    def check_attributes(cls, attributes: dict[str, Any]) -> dict[str, Any]:
        attributes["frame"] = int_attr(attributes, "frame", minimum=1)
        attributes["offset"] = int_attr(attributes, "offset")
        attributes["xor"] = int_attr(attributes, "xor", minimum=1)
        if attributes["xor"] > 255:
            raise ToxicError(f"attribute xor: expected 1 to 255, got {attributes['xor']}")
        return attributes

    def on_data(self, frame: Frame, index: int) -> list[Frame]:
        if index != self.attrs["frame"] or not frame.payload:
            return [frame]
        payload = bytearray(frame.payload)
        payload[self.attrs["offset"] % len(payload)] ^= self.attrs["xor"]
        return [Frame(frame.header, bytes(payload))]
