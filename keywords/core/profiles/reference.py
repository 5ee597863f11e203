"""The ``reference`` profile: docs/protocol.md, the bundled server's protocol.

Heartbeat in RFC 6455 control frames (the server pings, websockets answers; the client may
ping too), no application handshake on connect (sessions and streams have their own
keywords), and the rest of docs/protocol.md (sessions, streams, agents, metrics) available.
"""

from __future__ import annotations

from wsresilience.core.profiles.base import ProtocolProfile, register


@register
class ReferenceProfile(ProtocolProfile):
    """docs/protocol.md: control-frame heartbeat, sessions, streams and agents."""

    name = "reference"
    description = "reference protocol (docs/protocol.md): RFC 6455 ping/pong heartbeat, sessions, streams"
    reference_protocol = True

    def heartbeat_answer(self, message: str | bytes) -> str | None:
        return None
