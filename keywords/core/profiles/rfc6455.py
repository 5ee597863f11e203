"""The ``rfc6455`` profile: any WebSocket server, nothing assumed above RFC 6455.

The server's heartbeat is ping frames (websockets answers them), the client's heartbeat is
ping frames, there is no application handshake, and nothing of docs/protocol.md is assumed:
the suites check heartbeat, flapping and leaks, and SKIP what needs sessions or streams.
"""

from __future__ import annotations

from wsresilience.core.profiles.base import ProtocolProfile, register


@register
class Rfc6455Profile(ProtocolProfile):
    """Plain RFC 6455: control-frame heartbeat only."""

    name = "rfc6455"
    description = "plain RFC 6455: ping/pong control frames, no application protocol"

    def heartbeat_answer(self, message: str | bytes) -> str | None:
        return None
