"""Engine.IO 4 and Socket.IO 5 packets over WebSocket, encoded and decoded (text only).

Engine.IO frames one packet per WebSocket message, its type a leading digit:
``0`` open (JSON: ``sid``, ``pingInterval``, ``pingTimeout`` in ms), ``1`` close, ``2`` ping,
``3`` pong, ``4`` message (a Socket.IO packet follows), ``6`` noop. In Engine.IO v4 the
*server* pings and the client answers; a client that sends ``2`` is closed.

A Socket.IO packet inside a ``4``: a type digit, an optional ``/namespace,``, an optional ack
id, then JSON: ``0`` CONNECT (client: the ``auth`` object; server: ``{"sid", "pid"?}``), ``1``
DISCONNECT, ``2`` EVENT (``["name", arg, …]``; with connection state recovery the server
appends the packet's offset as a last string argument), ``3`` ACK, ``4`` CONNECT_ERROR
(``{"message"}``). Binary packets (``5``, ``6``) are not decoded here.

References: the Engine.IO protocol v4 and Socket.IO protocol v5 specifications
(socket.io/docs/v4/engine-io-protocol, socket.io/docs/v4/socket-io-protocol).
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


class EnginePacket(enum.IntEnum):
    """Engine.IO packet types."""

    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6


class SocketPacket(enum.IntEnum):
    """Socket.IO packet types."""

    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    CONNECT_ERROR = 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


#: The Engine.IO ping and pong as they travel.
PING = "2"
PONG = "3"


@dataclass(frozen=True)
class Decoded:
    """One decoded message: its Engine.IO type and, for ``4``, the Socket.IO packet."""

    engine: EnginePacket
    #: Engine.IO payload (JSON text of an open packet, or the raw Socket.IO packet).
    payload: str = ""
    socket: SocketPacket | None = None
    namespace: str = "/"
    ack_id: int | None = None
    data: Any = None


_SOCKET = re.compile(r"^(?P<type>\d)(?:(?P<nsp>/[^,]*),)?(?P<ack>\d+)?(?P<json>.*)$", re.DOTALL)


def decode(message: str | bytes) -> Decoded | None:
    """The packet in one WebSocket message, or ``None`` when it is not Engine.IO text."""
    if not isinstance(message, str) or not message or not message[0].isdigit():
        return None
    try:
        engine = EnginePacket(int(message[0]))
    except ValueError:
        return None
    payload = message[1:]
    if engine is not EnginePacket.MESSAGE:
        data = _json(payload) if engine is EnginePacket.OPEN else None
        return Decoded(engine, payload, data=data)
    match = _SOCKET.match(payload)
    if match is None:
        return Decoded(engine, payload)
    try:
        socket = SocketPacket(int(match["type"]))
    except ValueError:
        return Decoded(engine, payload)
    ack = match["ack"]
    return Decoded(engine, payload, socket, match["nsp"] or "/", int(ack) if ack else None,
                   _json(match["json"]) if match["json"] else None)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _namespace(namespace: str) -> str:
    return "" if namespace in ("", "/") else f"{namespace},"


def connect(auth: dict[str, Any] | None = None, namespace: str = "/") -> str:
    """The client's CONNECT, with its ``auth`` object (``40{"token": …}``)."""
    body = json.dumps(auth, separators=(",", ":")) if auth else ""
    return f"4{SocketPacket.CONNECT}{_namespace(namespace)}{body}"


def event(name: str, *args: Any, namespace: str = "/", ack_id: int | None = None) -> str:
    """An EVENT packet: ``42["name", …args]``."""
    ack = "" if ack_id is None else str(ack_id)
    body = json.dumps([name, *args], separators=(",", ":"))
    return f"4{SocketPacket.EVENT}{_namespace(namespace)}{ack}{body}"


def disconnect(namespace: str = "/") -> str:
    """The client's DISCONNECT for a namespace: ``41``."""
    return f"4{SocketPacket.DISCONNECT}{_namespace(namespace)}"


def event_of(decoded: Decoded | None) -> tuple[str, list[Any]] | None:
    """An EVENT's name and arguments, or ``None`` for any other packet."""
    if decoded is None or decoded.socket is not SocketPacket.EVENT or not isinstance(decoded.data, list):
        return None
    if not decoded.data or not isinstance(decoded.data[0], str):
        return None
    return decoded.data[0], list(decoded.data[1:])


def engine_url(url: str) -> str:
    """The WebSocket URL of a Socket.IO service: its path (``/socket.io/`` unless the URL names
    one other than ``/``) and ``EIO=4&transport=websocket``, keeping any other query."""
    parts = urlsplit(url)
    path = parts.path if parts.path not in ("", "/") else "/socket.io/"
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)
             if key not in ("EIO", "transport")]
    query += [("EIO", "4"), ("transport", "websocket")]
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), parts.fragment))
