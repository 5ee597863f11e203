"""How a ``frozen`` client stops reading yet still sees the server give up, over TCP and TLS.

A frozen client plays a zombie: it reads nothing, so it answers no ping. The test still has
to see when the server gives up on it (a close frame, the end of the stream, a reset), and
how it does that depends on whether the bytes in the socket are the WebSocket frames:

:class:`SocketFreeze` (``ws://``)
    The transport is paused, so the server's bytes wait unread in the kernel, exactly as
    with a hung client. Whenever something arrives (one shared edge-triggered epoll, see
    :mod:`.frozenwatch`) the unread frames are *peeked* at and the TCP state read
    (:mod:`.wire`): a close frame waiting, FIN (our socket turns CLOSE_WAIT) or RST.

:class:`TlsFreeze` (``wss://``)
    The socket holds ciphertext: peeking at it shows no frames (parsing it as frames reads
    garbage, random "close codes" included), and asyncio's TLS layer keeps draining the
    socket into its own buffer even while the transport is paused. So the TLS layer keeps
    decrypting, and the *WebSocket* layer is frozen instead: the plaintext is held in a side
    buffer and never handed to websockets, which therefore answers no ping. The held frames
    are parsed as they come (pings counted, a close frame seen), the end of the TLS stream
    (close_notify or FIN) and a reset are seen as they happen. When the client becomes
    responsive again the held bytes go to websockets in order, which then answers the
    waiting ping, as a thawed ``ws://`` client reads its kernel buffer.

    The server sees the same client in both cases: no pong, no close frame, TCP still open.
    One difference is flow control: the held plaintext is bounded (:data:`HOLD_LIMIT`); past
    it the transport is paused, so a server flooding a zombie meets back-pressure as it
    would from a full kernel buffer.

Both report to the connection through three calls: ``record("ping received", …)``,
``on_close_frame(code, reason, how)`` and ``_terminated(how)``.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import TYPE_CHECKING, Protocol

from wsresilience.faultproxy.wsframes import OP_CLOSE, OP_PING, OP_TEXT, Frame, parse_frames
from wsresilience.core.client.frozenwatch import FrozenSocketWatcher
from wsresilience.core.client.wire import peek_frames, tcp_state

if TYPE_CHECKING:
    from wsresilience.core.client.connection import ObservedConnection

#: Plaintext a frozen TLS client holds before it pauses its transport (back-pressure).
HOLD_LIMIT = 1 << 18


class Freeze(Protocol):
    """A frozen state of one connection: started by ``start``, ended by ``thaw``."""

    def start(self) -> None:
        """Stop handing the server's bytes to websockets; keep watching for the give-up."""

    def thaw(self) -> None:
        """Read normally again, handing over whatever waited (not if the connection is gone)."""

    def release(self) -> None:
        """Stop watching without handing anything over (the connection is going away)."""


def freeze_for(conn: ObservedConnection) -> Freeze:
    """The freeze that fits ``conn``'s transport: :class:`TlsFreeze` over TLS, else
    :class:`SocketFreeze`."""
    assert conn.ws is not None
    if conn.ws.transport.get_extra_info("ssl_object") is not None:
        return TlsFreeze(conn)
    return SocketFreeze(conn)


def report_waiting(conn: ObservedConnection, frames: list[Frame], already: int, how: str) -> int:
    """Record the pings among ``frames`` beyond the ``already`` counted, and the first close
    frame; returns the pings counted now."""
    pings = sum(1 for f in frames if f.opcode == OP_PING or is_heartbeat_message(conn, f))
    for _ in range(pings - already):
        conn.record("ping received", f"waiting unread ({how})")
    closes = [f for f in frames if f.opcode == OP_CLOSE]
    if closes and conn.close_code is None:
        conn.on_close_frame(closes[0].close_code or 1005, closes[0].close_reason, "close frame (unread)")
    return max(already, pings)


def is_heartbeat_message(conn: ObservedConnection, frame: Frame) -> bool:
    """Whether ``frame`` is a whole, uncompressed text frame holding the server's heartbeat
    message in ``conn``'s profile (Engine.IO ``2``), waiting unread like a PING frame."""
    if frame.opcode != OP_TEXT or not frame.fin or frame.rsv1:
        return False
    text = frame.unmasked_payload().decode("utf-8", "replace")
    return conn.profile.heartbeat_answer(text) is not None


class SocketFreeze:
    """``ws://``: pause the transport and peek at the kernel's receive buffer."""

    def __init__(self, conn: ObservedConnection) -> None:
        self.conn = conn
        self._sock: socket.socket | None = None
        self._pings = 0

    def start(self) -> None:
        ws = self.conn.ws
        assert ws is not None
        ws.transport.pause_reading()
        raw = ws.transport.get_extra_info("socket")
        if raw is None or raw.fileno() < 0:
            return
        self._sock = socket.socket(fileno=os.dup(raw.fileno()))
        # Registering reports what is already waiting, so nothing that came before is missed.
        FrozenSocketWatcher.on(asyncio.get_running_loop()).watch(self._sock.fileno(), self._check)

    def thaw(self) -> None:
        self.release()
        ws = self.conn.ws
        if ws is not None and not ws.transport.is_closing():
            ws.transport.resume_reading()

    def release(self) -> None:
        if self._sock is not None:
            FrozenSocketWatcher.forget(asyncio.get_running_loop(), self._sock.fileno())
            self._sock.close()
            self._sock = None

    def _check(self) -> None:
        """Something arrived on the frozen socket: see whether the server pinged or gave up."""
        conn = self.conn
        if self._sock is None or conn.terminated_at is not None:
            return
        frames, reset = peek_frames(self._sock)
        self._pings = report_waiting(conn, frames, self._pings, "frozen")
        state = tcp_state(self._sock)
        if reset:
            conn._terminated("TCP reset by server (seen while frozen)")
        elif state in ("CLOSE_WAIT", "CLOSE", "LAST_ACK"):
            conn._terminated(f"server half-closed TCP ({state}, seen while frozen)")


class TlsFreeze:
    """``wss://``: keep decrypting, hold the plaintext back from websockets."""

    def __init__(self, conn: ObservedConnection) -> None:
        self.conn = conn
        self.held = bytearray()
        self.eof = False
        self._pings = 0
        self._paused = False
        self.active = False

    def start(self) -> None:
        self.active = True

    def hold(self, data: bytes) -> None:
        """Plaintext the server sent while frozen: keep it, and look at its frames."""
        self.held += data
        self._pings = report_waiting(self.conn, parse_frames(bytes(self.held)), self._pings, "frozen, TLS")
        ws = self.conn.ws
        if len(self.held) >= HOLD_LIMIT and not self._paused and ws is not None:
            self._paused = True
            ws.transport.pause_reading()

    def hold_eof(self) -> None:
        """The server ended the TLS stream (close_notify, or TCP FIN) while we were frozen."""
        self.eof = True
        self.conn._terminated("server ended the TLS stream (seen while frozen)")

    def thaw(self) -> None:
        self.active = False
        ws = self.conn.ws
        held, self.held = bytes(self.held), bytearray()
        if ws is None or ws.transport.is_closing():
            return
        if self._paused:
            ws.transport.resume_reading()
        self.conn.deliver_held(held, self.eof)

    def release(self) -> None:
        self.active = False
        self.held = bytearray()
