"""The ``graphql-ws`` profile: the ``graphql-transport-ws`` subprotocol (graphql-ws 5 and 6).

- **Open**: offer subprotocol ``graphql-transport-ws`` (the server closes with 4406
  without it), send ``{"type": "connection_init", "payload": …}`` (the server closes with
  4408 if it does not come within its ``connectionInitWaitTimeout``), wait for
  ``{"type": "connection_ack"}``; close 4403 is a refusal.
- **Server heartbeat**: graphql-ws's ``ws`` adapter pings in RFC 6455 control frames
  (``keepAlive``, 12 s by default); a ``{"type": "ping"}`` message from the server is answered
  with ``{"type": "pong"}`` too.
- **Client heartbeat**: ``{"type": "ping"}``, answered by ``{"type": "pong"}``.
"""

from __future__ import annotations

import json
from typing import Any

from wsresilience.core.profiles.base import Channel, Handshake, HandshakeRefused, ProtocolProfile, register

PING = json.dumps({"type": "ping"})
PONG = json.dumps({"type": "pong"})


def _type(message: str | bytes) -> str | None:
    if not isinstance(message, str) or '"type"' not in message:
        return None
    try:
        data = json.loads(message)
    except json.JSONDecodeError:
        return None
    return data.get("type") if isinstance(data, dict) else None


@register
class GraphqlWsProfile(ProtocolProfile):
    """graphql-transport-ws: connection_init / connection_ack; ping/pong messages."""

    name = "graphql-ws"
    description = "graphql-ws (graphql-transport-ws): connection_init/ack, RFC 6455 and message ping/pong"
    subprotocols = ("graphql-transport-ws",)
    pong_matcher = "graphql-ws"

    async def handshake(self, channel: Channel, auth: dict[str, Any] | None, timeout: float) -> Handshake:
        """Send ``connection_init`` with ``auth`` as its payload; wait for ``connection_ack``."""
        init: dict[str, Any] = {"type": "connection_init"}
        if auth:
            init["payload"] = auth
        await channel.send(json.dumps(init))
        while True:
            message = await channel.receive(timeout)
            kind = _type(message)
            if kind == "ping":
                await channel.send(PONG)
            elif kind == "connection_ack":
                return Handshake()
            elif kind is not None and kind != "pong":
                raise HandshakeRefused(f"expected connection_ack, got a {kind!r} message")

    def heartbeat_answer(self, message: str | bytes) -> str | None:
        return PONG if _type(message) == "ping" else None

    def client_ping(self) -> str | None:
        return PING

    def is_client_pong(self, message: str | bytes) -> bool:
        return _type(message) == "pong"
