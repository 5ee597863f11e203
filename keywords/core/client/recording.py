"""The websockets client connection under an observer: every frame reported, pongs dropped on demand.

:class:`RecordingClientConnection` is what :class:`~wsresilience.core.client.connection.ObservedConnection`
opens. It wraps the protocol's ``send_frame`` and ``recv_frame`` (websockets has no hook for
either) to report pings, pongs and close frames to its observer, to drop PONG frames while
the observer's :class:`Behaviour` is ``no-pong``, and to tell the observer when the client
itself fails the connection (a close frame the client sends first, without being asked to
close: close 1009 for a message over the client's limit).
"""

from __future__ import annotations

import enum
import functools
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection
from websockets.frames import Close, Frame, Opcode

from wsresilience.core.client.freeze import TlsFreeze
from wsresilience.core.runtime.choices import parse_choice

if TYPE_CHECKING:
    from wsresilience.core.client.connection import ObservedConnection


class Behaviour(enum.StrEnum):
    """How a client treats the server's pings."""

    RESPONSIVE = "responsive"
    NO_PONG = "no-pong"
    FROZEN = "frozen"

    @classmethod
    def parse(cls, value: str | Behaviour) -> Behaviour:
        """A behaviour from its name, failing with the list of known names."""
        return parse_choice(cls, value, "behaviour")


class RecordingClientConnection(ClientConnection):
    """A websockets ClientConnection that reports frames to its observer."""

    def __init__(self, protocol: Any, *, observer: ObservedConnection, **kwargs: Any) -> None:
        super().__init__(protocol, **kwargs)
        self.observer = observer
        # Bound methods rather than closures: one small object each, per connection.
        self._send_frame = protocol.send_frame
        self._recv_frame = protocol.recv_frame
        protocol.send_frame = self._filtered_send_frame
        protocol.recv_frame = self._observed_recv_frame

    def _filtered_send_frame(self, frame: Frame) -> None:
        observer = self.observer
        if frame.opcode is Opcode.PONG:
            if observer.behaviour is Behaviour.NO_PONG:
                observer.record("pong suppressed")
                return
            observer.record("pong sent")
        elif frame.opcode is Opcode.CLOSE and not observer.closing_by_us and self.protocol.close_rcvd is None:
            close = Close.parse(frame.data)  # the client fails the connection itself
            observer.on_client_close(close.code, close.reason)
        self._send_frame(frame)

    def _observed_recv_frame(self, frame: Frame) -> None:
        if frame.opcode is Opcode.PING:
            self.observer.record("ping received", _ping_detail(len(frame.data)))
        elif frame.opcode is Opcode.CLOSE:
            close = Close.parse(frame.data)
            self.observer.on_close_frame(close.code, close.reason, "close frame")
        self._recv_frame(frame)

    def data_received(self, data: bytes) -> None:
        freeze = self.observer.freeze
        if isinstance(freeze, TlsFreeze) and freeze.active:
            freeze.hold(data)  # frozen over TLS: decrypted, held back from websockets
            return
        super().data_received(data)

    def eof_received(self) -> None:
        freeze = self.observer.freeze
        if isinstance(freeze, TlsFreeze) and freeze.active:
            freeze.hold_eof()
            return
        super().eof_received()

    def deliver(self, data: bytes, eof: bool) -> None:
        """Hand websockets what a TLS freeze held back, then the end of stream if it came."""
        if data:
            super().data_received(data)
        if eof:
            super().eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.observer.on_connection_lost(exc)


@functools.lru_cache(maxsize=256)
def _ping_detail(size: int) -> str:
    """``"<size> bytes"``, one string per size rather than one per ping."""
    return f"{size} bytes"
