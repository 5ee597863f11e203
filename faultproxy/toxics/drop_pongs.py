"""``drop_pongs`` (WebSocket-aware): the client's heartbeat answers dropped, and only them.

What a heartbeat answer looks like depends on the framework above RFC 6455, so the toxic
takes a ``matcher`` attribute naming it:

- ``control`` (the default): RFC 6455 PONG frames;
- ``socketio``: Engine.IO pong packets, a text frame holding exactly ``3`` (Engine.IO v4: the
  server pings with ``2``, the client answers ``3``);
- ``graphql-ws``: RFC 6455 PONG frames (graphql-ws's ``ws`` adapter pings in control frames)
  and ``{"type": "pong"}`` text messages.

A text frame is matched on its unmasked payload; compressed (``rsv1``) or fragmented text
frames are never matched, so they pass. The matchers are plain functions in :data:`MATCHERS`:
a new framework adds one there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from wsresilience.faultproxy.toxics.model import ToxicError, register
from wsresilience.faultproxy.toxics.stage import FrameStage
from wsresilience.faultproxy.wsframes import OP_PONG, OP_TEXT, Frame


def _text(frame: Frame) -> str | None:
    """The text of a whole, uncompressed text frame, else ``None``."""
    if frame.opcode != OP_TEXT or not frame.fin or frame.rsv1:
        return None
    return frame.unmasked_payload().decode("utf-8", "replace")


def _control(frame: Frame) -> bool:
    return frame.opcode == OP_PONG


def _socketio(frame: Frame) -> bool:
    return _text(frame) == "3"


def _graphql_ws(frame: Frame) -> bool:
    if frame.opcode == OP_PONG:
        return True
    text = _text(frame)
    if text is None or '"pong"' not in text:
        return False
    try:
        message = json.loads(text)
    except json.JSONDecodeError:
        return False
    return isinstance(message, dict) and message.get("type") == "pong"


#: ``matcher`` attribute → whether a frame is a heartbeat answer of that framework.
MATCHERS: dict[str, Callable[[Frame], bool]] = {
    "control": _control,
    "socketio": _socketio,
    "graphql-ws": _graphql_ws,
}


@register("drop_pongs")
class DropPongs(FrameStage):
    """Drop heartbeat answers, and only them: data still flows, but the peer's keepalive starves."""

    DEFAULTS: ClassVar[dict[str, Any]] = {"matcher": "control"}

    @classmethod
    def check_attributes(cls, attributes: dict[str, Any]) -> dict[str, Any]:
        if attributes["matcher"] not in MATCHERS:
            raise ToxicError(f"attribute matcher: expected one of {', '.join(MATCHERS)}, "
                             f"got {attributes['matcher']!r}")
        return attributes

    def on_frame(self, frame: Frame) -> list[Frame]:
        return [] if MATCHERS[self.attrs["matcher"]](frame) else [frame]
