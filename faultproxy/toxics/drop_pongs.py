"""``drop_pongs`` (WebSocket-aware): PONG frames dropped, and only them."""

from __future__ import annotations

from wsresilience.faultproxy.toxics.model import register
from wsresilience.faultproxy.toxics.stage import FrameStage
from wsresilience.faultproxy.wsframes import OP_PONG, Frame


@register("drop_pongs")
class DropPongs(FrameStage):
    """Drop PONG frames, and only them: data still flows, but the peer's keepalive starves."""

    def on_control(self, frame: Frame) -> list[Frame]:
        return [] if frame.opcode == OP_PONG else [frame]
