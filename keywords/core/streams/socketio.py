"""Streams as Socket.IO events, resumed by Socket.IO's connection state recovery.

The event convention (:class:`~wsresilience.core.streams.adapter.EventConvention`, names set
from variables): the client emits ``stream`` with ``{"n": N, "size": B}`` (N chunks of B
characters); the service emits ``chunk`` events ``{"id", "seq", "data"}`` (seq from 1) and
then ``end`` ``{"id", "n", "sha256"}``, the hex SHA-256 of the data in seq order.

Resuming is not per stream here but per connection (Socket.IO 4.6+
``connectionStateRecovery``). The server appends each event's *offset* as its last argument
and names the session with a private id, the ``pid``, in its ``CONNECT`` answer
(``40{"sid", "pid"}``). A client that reconnects sends ``CONNECT`` with its auth plus
``{"pid", "offset"}`` (the offset of the last event it processed); the session is
*recovered* when the server's answer carries the same pid, and the server then replays every
event emitted meanwhile. These are socket.io-client's own rules (``lib/socket.ts``:
``_sendConnectPacket``, ``onconnect``: ``recovered = pid && this._pid === pid``, and
``emitEvent``, which keeps the last string argument as the offset only when a pid was given).
The server sends the missed events *before* its ``CONNECT`` answer; like socket.io-client,
the adapter holds them until the answer says the session was recovered.

Documented limits, which a failure names: recovery needs the server to have sent at least
one event (no offset, nothing to resume from), and it is not guaranteed (the server keeps a
session for ``maxDisconnectionDuration``, two minutes by default).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from wsresilience.core.profiles import socketio_packets as sio
from wsresilience.core.streams.adapter import (
    ChunkIn,
    Connected,
    Ended,
    Event,
    EventConvention,
    Reply,
    Started,
    StreamAdapter,
    StreamRequest,
    UnexpectedMessage,
    register_for_profile,
)


class SocketIoStreamAdapter(StreamAdapter):
    """Socket.IO 4 events after the event convention; resume by connection state recovery.

    One instance per session (:meth:`for_session`): it remembers the session's pid and the
    offset of the last event processed, as socket.io-client does.
    """

    name = "socketio"
    handshake = True
    resumes_connection = True

    def __init__(self, convention: EventConvention | None = None, auth: dict[str, Any] | None = None) -> None:
        self.convention = convention or EventConvention()
        self.auth = auth
        #: The session's private id from the last CONNECT answer (``None``: recovery is off).
        self.pid: str | None = None
        #: The offset of the last event processed (``None``: no event yet).
        self.offset: str | None = None
        self._refs: deque[str] = deque()
        self._known: set[str] = set()
        self._connected = False
        #: CONNECT answers seen: the first connection has nothing to recover.
        self.connects = 0
        #: Events that came before the CONNECT answer, with their offsets.
        self._held: list[tuple[list[Event], str | None]] = []

    def for_session(self) -> SocketIoStreamAdapter:
        return SocketIoStreamAdapter(self.convention, self.auth)

    def connect_url(self, url: str) -> str:
        return sio.engine_url(url)

    def cannot_express(self, request: StreamRequest) -> str | None:
        if request.kind != "text" or request.components:
            return (f"the Socket.IO event convention streams text chunks only; a {request.kind} stream "
                    "needs the reference protocol (docs/profiles.md)")
        if request.window_ms is not None:
            return ("Socket.IO has no resume window per stream to ask for: a session that cannot be "
                    "recovered reconnects with recovered false, which the recovery check judges")
        return None

    def start_message(self, request: StreamRequest, ref: str) -> str:
        self._refs.append(ref)
        chunks = max(1, math.ceil(request.size / max(1, request.chunk_size)))
        return sio.event(self.convention.start, {"n": chunks, "size": request.chunk_size})

    def resume_message(self, stream_id: str, last_seq: int, epoch: str) -> str:
        raise NotImplementedError("Socket.IO resumes a connection, not a stream: see resumes_connection")

    def connect_message(self) -> str:
        """``CONNECT`` with the auth, and ``{"pid", "offset"}`` once a session exists (the
        offset only when an event arrived: socket.io-client sends what it has)."""
        data: dict[str, Any] = {}
        if self.pid is not None:
            data["pid"] = self.pid
            if self.offset is not None:
                data["offset"] = self.offset
        data.update(self.auth or {})
        return sio.connect(data or None)

    def parse(self, message: str | bytes) -> list[Event]:
        packet = sio.decode(message)
        if packet is None:
            what = "a binary message" if isinstance(message, bytes) else "a message that is not Engine.IO"
            raise UnexpectedMessage(what)
        if packet.engine is sio.EnginePacket.OPEN:
            self._connected, self._held = False, []
            return [Reply(self.connect_message())]
        if packet.engine is sio.EnginePacket.PING:
            return [Reply(sio.PONG)]
        if packet.engine is not sio.EnginePacket.MESSAGE:
            return []  # pong, noop, close: nothing for the streams
        if packet.socket is sio.SocketPacket.CONNECT:
            return self._on_connect(packet.data if isinstance(packet.data, dict) else {})
        if packet.socket is sio.SocketPacket.CONNECT_ERROR:
            said = packet.data.get("message", "") if isinstance(packet.data, dict) else ""
            raise UnexpectedMessage(f"a CONNECT_ERROR ({said or 'no message'})")
        if packet.socket is sio.SocketPacket.DISCONNECT:
            raise UnexpectedMessage("a DISCONNECT: the service ended the Socket.IO session")
        named = sio.event_of(packet)
        if named is None:
            return []  # acks, binary events: not part of the convention
        name, args = named
        offset = None
        if self.pid is not None and args and isinstance(args[-1], str):
            offset, args = args[-1], args[:-1]
        events = self._events(name, args)
        if not self._connected:
            self._held.append((events, offset))
            return []
        if offset is not None:
            self.offset = offset
        return events

    def _on_connect(self, data: dict[str, Any]) -> list[Event]:
        pid = data.get("pid")
        previous, self.pid = self.pid, pid if isinstance(pid, str) else None
        self.connects += 1
        if self.connects == 1:
            recovered = None
            detail = "a first connection" + ("" if self.pid else "; the service gives no pid: "
                                             "connection state recovery is off")
        elif previous is None:
            recovered, detail = False, ("the service gave no pid (connection state recovery is off), "
                                        "so the reconnect is a new session")
        elif self.pid == previous:
            recovered, detail = True, "the service answered the reconnect with the same pid"
        else:
            recovered = False
            detail = ("the service answered the reconnect with a new pid (a new session)" if self.pid
                      else "the service answered the reconnect with no pid (a new session)")
            if self.offset is None:
                detail += ("; no event had arrived before the cut, so there was no offset to resume "
                           "from (Socket.IO recovers only once the server has sent an event)")
        self._connected = True
        released: list[Event] = [Connected(recovered, detail)]
        for events, offset in self._held:
            released += events
            if offset is not None:
                self.offset = offset
        self._held = []
        return released

    def _events(self, name: str, args: list[Any]) -> list[Event]:
        """The stream events of one Socket.IO event (others are the service's own: ignored)."""
        if name not in (self.convention.chunk, self.convention.end):
            return []
        body = args[0] if args else None
        try:
            if name == self.convention.chunk:
                stream, seq, data = str(body["id"]), int(body["seq"]), body["data"]
                if not isinstance(data, str):
                    raise TypeError(f"data is a {type(data).__name__}, not text")
                if stream in self._known:
                    return [ChunkIn(stream, seq, data)]
                self._known.add(stream)
                ref = self._refs.popleft() if self._refs else ""
                return [Started(ref, stream), ChunkIn(stream, seq, data)]
            return [Ended(str(body["id"]), int(body["n"]), str(body["sha256"]))]
        except (KeyError, TypeError, ValueError) as exc:
            raise UnexpectedMessage(f"a {name!r} event with a missing or bad field "
                                    f"({type(exc).__name__}: {exc})") from None


def _factory(convention: EventConvention, auth: dict[str, Any] | None) -> StreamAdapter:
    return SocketIoStreamAdapter(convention, auth)


register_for_profile("socketio", _factory)
