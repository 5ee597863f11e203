"""One connection of a stream session, and what it brought that the protocol does not allow.

A :class:`StreamConnection` hands every message straight to its session (no queue) and
remembers the first thing that makes waiting on it pointless: a message the protocol
adapter could not read (not JSON, an unknown type, a binary frame …), or the end of the
connection when the client did not cut it (say, closed 1009 because a frame was larger than
the client accepts). A session waiting for an answer on it then fails at once, naming what
arrived (:attr:`StreamConnection.broken`), instead of waiting out its timeout.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from wsresilience.core.client.connection import ObservedConnection
from wsresilience.core.streams.adapter import Connected, UnexpectedMessage, preview

#: What the connection does with each message (the session's ``on_message``): done when it
#: returns, or it returns what is left to await (sending an ack, say).
Handler = Callable[["StreamConnection", str | bytes], Awaitable[None] | None]


class StreamConnection(ObservedConnection):
    """An observed connection whose messages go straight to the session."""

    def __init__(self, name: str, url: str, number: int, handler: Handler,
                 on_end: Callable[[], None]) -> None:
        super().__init__(name, url)
        self.number = number
        self.cut = False
        #: The first message the protocol does not allow, described (``got …``).
        self.violation: str | None = None
        #: How the connection ended, when the client did not cut or close it.
        self.ended: str | None = None
        #: The end of the application handshake (adapters with ``handshake``), and when.
        self.handshake: Connected | None = None
        self.ready_at: float | None = None
        self._handler = handler
        self._on_end = on_end

    async def _read_messages(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):
            async for message in self.ws:
                if self.cut:
                    return  # what was still buffered when we cut is lost, as on a real cut
                pending = self._handler(self, message)
                if pending is not None:
                    await pending
        if not self.cut and not self.closing_by_us:
            self.ended = f"the connection ended: {close_of(self)}"
        self._on_end()

    def reject(self, message: str | bytes, error: Exception, adapter: str, hide: list[str]) -> str:
        """Note that ``message`` broke the protocol (the adapter raised ``error``); returns
        the description (``hide``, say the stream ids, masked), and keeps the first one as
        :attr:`violation`."""
        said = describe_message(message, error, adapter, hide)
        if self.violation is None:
            self.violation = said
        return said

    @property
    def broken(self) -> str | None:
        """Why waiting for an answer here is pointless, or ``None``: a message the protocol
        does not allow arrived, or the connection ended without the client cutting it."""
        return self.violation or self.ended


def describe_message(message: str | bytes, error: Exception, adapter: str,
                     hide: list[str] | None = None) -> str:
    """``got <what it is>: '<masked, shortened text>' (<length>)`` for a message the adapter
    could not read; ``hide`` lists more strings to mask (stream ids: holding one is what
    entitles a client to resume)."""
    if isinstance(error, UnexpectedMessage):
        what = str(error)
    else:
        what = f"a message the {adapter} adapter cannot read ({type(error).__name__}: {error})"
    if isinstance(message, bytes):
        return f"got {what} ({len(message)} bytes)"
    size = f"{len(message)} character{'' if len(message) == 1 else 's'}"
    return f"got {what}: {preview(message, hide=hide)!r} ({size})"


def close_of(conn: ObservedConnection) -> str:
    """How the connection closed: the client's own limit named when that was the cause,
    otherwise the close as websockets words it (``received 1001 (going away) …``)."""
    if conn.ended_by_client and conn.termination:
        return conn.termination
    ws = conn.ws
    if ws is None or ws.protocol.state is not State.CLOSED:
        return "closing"
    return str(ws.protocol.close_exc)
