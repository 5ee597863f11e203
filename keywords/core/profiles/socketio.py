"""The ``socketio`` profile: Socket.IO 4 (Engine.IO v4, Socket.IO protocol v5) over WebSocket.

- **Open**: ``/socket.io/?EIO=4&transport=websocket``; the server's open packet
  (``0{"sid", "pingInterval", "pingTimeout", …}``) announces its keepalive; the client sends
  ``CONNECT`` with its ``auth`` object (``40{…}``) and waits for the server's ``40{"sid"}``
  (or ``44{"message"}``, a refusal).
- **Server heartbeat**: Engine.IO packets, ``2`` from the server, ``3`` from the client. A
  ``no-pong`` client must be wholly silent: any other packet postpones the server's pending
  ping timeout once.
- **Client heartbeat**: none. Engine.IO v4 closes a client that sends its own ``2``; a client
  detects a dead server by the server's pings stopping (``pingInterval + pingTimeout``),
  as socket.io-client does.
"""

from __future__ import annotations

from typing import Any

from wsresilience.core.profiles import socketio_packets as sio
from wsresilience.core.profiles.base import (
    Announced,
    Channel,
    Handshake,
    HandshakeRefused,
    ProtocolProfile,
    register,
)


@register
class SocketIoProfile(ProtocolProfile):
    """Socket.IO 4: Engine.IO ping ``2`` / pong ``3``, CONNECT with ``auth``."""

    name = "socketio"
    description = "Socket.IO 4 (Engine.IO v4): server ping 2 / client pong 3, CONNECT with auth"
    control_frame_heartbeat = False
    client_pings = False
    no_pong_silences_everything = True
    pong_matcher = "socketio"

    def connect_url(self, url: str) -> str:
        return sio.engine_url(url)

    async def handshake(self, channel: Channel, auth: dict[str, Any] | None, timeout: float) -> Handshake:
        """Read the open packet, send CONNECT with ``auth``, wait for the server's CONNECT."""
        opened = sio.decode(await channel.receive(timeout))
        if opened is None or opened.engine is not sio.EnginePacket.OPEN or not isinstance(opened.data, dict):
            raise HandshakeRefused(f"expected an Engine.IO open packet (0{{...}}), got {_preview(opened)}")
        announced = Announced(opened.data.get("pingInterval", 25000) / 1000,
                              opened.data.get("pingTimeout", 20000) / 1000)
        await channel.send(sio.connect(auth))
        while True:
            message = await channel.receive(timeout)
            if message == sio.PING:  # a ping may come before the CONNECT answer
                await channel.send(sio.PONG)
                continue
            packet = sio.decode(message)
            if packet is not None and packet.socket is sio.SocketPacket.CONNECT_ERROR:
                detail = packet.data.get("message", "") if isinstance(packet.data, dict) else packet.payload
                raise HandshakeRefused(f"Socket.IO CONNECT refused: {detail}")
            if packet is not None and packet.socket is sio.SocketPacket.CONNECT:
                data = packet.data if isinstance(packet.data, dict) else {}
                extra = {key: value for key, value in data.items() if key != "sid"}
                return Handshake(str(data.get("sid", "")), announced, extra)

    def heartbeat_answer(self, message: str | bytes) -> str | None:
        return sio.PONG if message == sio.PING else None


def _preview(packet: sio.Decoded | None) -> str:
    if packet is None:
        return "no Engine.IO packet"
    return f"Engine.IO {packet.engine.name.lower()} packet"
