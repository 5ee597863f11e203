"""A WebSocket client connection that records what happens to it and can play dead.

:class:`ObservedConnection` wraps a ``websockets`` client connection. Every ping received,
pong sent or suppressed, message in or out, close frame and TCP event is recorded with a
monotonic timestamp (the frames through :mod:`.recording`). Its behaviour switches at run
time:

``responsive``
    Answers every ping (websockets does it in its protocol layer).
``no-pong``
    Keeps reading, but drops its PONG frames on the way out (websockets has no switch for
    that, so the protocol's ``send_frame`` is wrapped).
``frozen``
    Stops reading altogether: websockets gets none of the server's bytes, so it answers no
    ping. The client still sees the server give up (close frame waiting, end of stream, or
    reset) without reading: over ``ws://`` by peeking at the kernel's receive buffer, over
    ``wss://`` from the decrypted bytes it holds back (see :mod:`.freeze`).

A client-side heartbeat pings the server at its own interval, measures the round-trip
time, and flags a server that stops answering.

The connection speaks its :class:`~wsresilience.core.profiles.ProtocolProfile`: it opens the
profile's URL with its subprotocols, runs its application handshake (keeping the keepalive
the service announces in :attr:`ObservedConnection.announced`), and handles heartbeats the
profile carries in messages (Socket.IO, graphql-ws) as websockets handles control frames
(:mod:`.app_heartbeat`): recorded, answered or suppressed, never queued as messages.

A message larger than the client's own limit (``max_size``, see :mod:`.limits`) makes the
client fail the connection with close 1009; the termination then says that the client's
limit was the cause, not the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import ssl
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State as WsState

from wsresilience.core.runtime.events import EventLog
from wsresilience.core.client.app_heartbeat import client_ping_round, take_heartbeat, watch_server_pings
from wsresilience.core.client.freeze import Freeze, freeze_for
from wsresilience.core.client.recording import Behaviour, RecordingClientConnection
from wsresilience.core.client.limits import DEFAULT_MAX_MESSAGE_SIZE, client_close_description
from wsresilience.core.runtime.loop import wait_until
from wsresilience.core.masking import mask_secret, mask_url
from wsresilience.core.client.open_errors import describe_open_error
from wsresilience.core.profiles import Announced, HandshakeRefused, ProtocolProfile, get_profile
from wsresilience.errors import OpenFailed


class ConnState(enum.StrEnum):
    """Where a connection is in its life, as the timeline shows it."""

    CONNECTING = "CONNECTING"
    OPEN = "OPEN"
    SILENT = "SILENT"
    TERMINATED = "TERMINATED"
    CLOSED = "CLOSED"


class ObservedConnection:
    """One client connection under observation. Methods run on the event loop.

    Held by the thousand, so it is kept lean: ``__slots__`` (no per-instance dict), the
    message queue, the change event and the task set created only when first needed (a
    heartbeat connection that never receives a message never gets a queue), and routine
    ping/pong events kept in a bounded ring (:class:`~wsresilience.core.runtime.events.EventLog`).
    """

    __slots__ = (
        "name", "url", "events", "behaviour", "state", "ws", "opened_at", "handshake_ms",
        "silent_since", "terminated_at", "termination", "close_code", "close_reason",
        "closing_by_us", "ended_by_client", "max_size", "rtts_ms", "server_unresponsive_at",
        "server_silenced_at", "heartbeat_interval", "heartbeat_timeout", "secrets", "freeze",
        "profile", "auth", "announced", "client_pong",
        "_messages", "_changed_event", "_tasks", "__weakref__",
    )

    def __init__(self, name: str, url: str, profile: ProtocolProfile | None = None,
                 auth: dict[str, Any] | None = None) -> None:
        self.name = name
        self.url = url
        #: What the service speaks above RFC 6455 (default: the reference protocol).
        self.profile = profile or get_profile("reference")
        #: The auth payload of the profile's handshake (Socket.IO ``auth``, graphql-ws payload).
        self.auth = auth
        #: The keepalive the service announced in its handshake (Socket.IO), if any.
        self.announced: Announced | None = None
        #: The answer the client's application ping waits for (see :mod:`.app_heartbeat`).
        self.client_pong: asyncio.Future[Any] | None = None
        self.events = EventLog()
        self.behaviour = Behaviour.RESPONSIVE
        self.state = ConnState.CONNECTING
        self.ws: ClientConnection | None = None
        self.opened_at: float | None = None
        self.handshake_ms: float | None = None
        self.silent_since: float | None = None
        self.terminated_at: float | None = None
        self.termination: str = ""
        self.close_code: int | None = None
        self.close_reason: str = ""
        self.closing_by_us = False
        #: Whether the client ended the connection itself (its own limit, a protocol error).
        self.ended_by_client = False
        #: The largest message this client accepts, in bytes (``None``: no limit).
        self.max_size: int | None = DEFAULT_MAX_MESSAGE_SIZE
        self.rtts_ms: list[float] = []
        self.server_unresponsive_at: float | None = None
        #: When the test cut the server off (its own control, or a blackholed proxy): the
        #: clock the client heartbeat's detection time is measured from.
        self.server_silenced_at: float | None = None
        self.heartbeat_interval: float | None = None
        self.heartbeat_timeout: float | None = None
        #: Strings (tokens) that must never reach the log; masked in recorded previews.
        self.secrets: list[str] = []
        self._messages: asyncio.Queue[str | bytes] | None = None
        self._changed_event: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[Any]] | None = None
        #: How the connection is frozen while its behaviour is ``frozen`` (see :mod:`.freeze`).
        self.freeze: Freeze | None = None
        self.record_state(ConnState.CONNECTING)

    @property
    def messages(self) -> asyncio.Queue[str | bytes]:
        """The messages from the server not yet received, oldest first (created on first use)."""
        if self._messages is None:
            self._messages = asyncio.Queue()
        return self._messages

    @messages.setter
    def messages(self, queue: asyncio.Queue[str | bytes]) -> None:
        self._messages = queue

    @property
    def _changed(self) -> asyncio.Event:
        """Set at every recorded event; created when someone first waits for a change."""
        if self._changed_event is None:
            self._changed_event = asyncio.Event()
        return self._changed_event

    # -- recording --------------------------------------------------------------------

    @property
    def target(self) -> str:
        """The URL with secrets masked, for messages."""
        return mask_url(self.url)

    def record(self, kind: str, detail: str = "") -> None:
        """Record an event and wake whoever waits for a change."""
        self.events.record(kind, detail)
        if self._changed_event is not None:  # nobody waits before the event exists
            self._changed_event.set()

    def record_state(self, state: ConnState, detail: str = "") -> None:
        """Move to ``state`` and record the transition."""
        self.state = state
        self.record("state", f"{state.value}{': ' + detail if detail else ''}")

    def on_close_frame(self, code: int, reason: str, how: str) -> None:
        """The server's close frame arrived (or was seen waiting unread)."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self.record("close received", f"{code} {reason}".strip())
        if not self.closing_by_us:
            self._terminated(f"{how} {code} {reason}".strip())

    def on_client_close(self, code: int, reason: str) -> None:
        """The client fails the connection itself (close 1009 for a message over its limit)."""
        self.record("close sent", f"{code} {reason}".strip())
        if self.terminated_at is None:
            self.ended_by_client = True
        self._terminated(client_close_description(code, reason, self.max_size))

    @property
    def ended_by(self) -> str:
        """Who ended the connection, for messages: ``the client`` or ``the server``."""
        return "the client" if self.ended_by_client else "the server"

    def on_connection_lost(self, exc: Exception | None) -> None:
        """The TCP connection is gone."""
        self.record("connection lost", type(exc).__name__ if exc else "")
        if not self.closing_by_us:
            self._terminated(f"TCP {'reset' if exc else 'closed'} by server")
        self._release_freeze()
        self.record_state(ConnState.CLOSED)

    def _terminated(self, how: str) -> None:
        if self.terminated_at is None:
            self.terminated_at = time.monotonic()
            self.termination = how
            self.record_state(ConnState.TERMINATED, how)

    # -- life cycle ---------------------------------------------------------------------

    async def open(
        self,
        timeout: float,
        ssl_context: ssl.SSLContext | None = None,
        source_address: str | None = None,
        headers: dict[str, str] | None = None,
        compression: str | None = None,
        max_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        """Open the connection, recording the handshake time; fails in one line.

        ``max_size`` is the largest message the client accepts (bytes; ``None``: no limit).
        """
        observer = self

        def factory(protocol: Any, **kwargs: Any) -> ClientConnection:
            return RecordingClientConnection(protocol, observer=observer, **kwargs)

        kwargs: dict[str, Any] = {}
        if ssl_context is not None:
            kwargs["ssl"] = ssl_context
        if source_address:
            kwargs["local_addr"] = (source_address, 0)
        self.max_size = max_size
        started = time.monotonic()
        try:
            self.ws = await connect(
                self.profile.connect_url(self.url),
                subprotocols=list(self.profile.subprotocols) or None,  # type: ignore[arg-type]
                create_connection=factory,  # type: ignore[arg-type]
                open_timeout=timeout,
                ping_interval=None,
                close_timeout=2,
                proxy=None,
                additional_headers=headers,
                compression=compression,
                max_size=max_size,
                user_agent_header="robotframework-wsresilience",
                **kwargs,
            )
        except Exception as exc:
            self.record("open failed", type(exc).__name__)
            self.record_state(ConnState.CLOSED)
            raise OpenFailed(describe_open_error(exc, self.url, timeout), exc) from None
        self._spawn(self._read_messages())
        await self._application_handshake(timeout)
        self.opened_at = time.monotonic()
        self.handshake_ms = (self.opened_at - started) * 1000
        self.record_state(ConnState.OPEN, f"handshake {self.handshake_ms:.1f} ms")

    async def _application_handshake(self, timeout: float) -> None:
        """The profile's handshake after the WebSocket one; fails in one line, connection closed."""
        try:
            done = await self.profile.handshake(self, self.auth, timeout)
        except (HandshakeRefused, TimeoutError, ConnectionClosed) as exc:
            why = "no answer within the timeout" if isinstance(exc, TimeoutError) else (
                "the connection closed" if isinstance(exc, ConnectionClosed) else str(exc))
            self.record("open failed", f"{self.profile.name} handshake")
            await self.close()
            self.record_state(ConnState.CLOSED)
            raise OpenFailed(f"The {self.profile.name} handshake with {self.target} failed after the "
                             f"WebSocket one: {mask_secret(why, self.secrets)} (waited up to {timeout:.2f} s).",
                             exc) from None
        self.announced = done.announced
        if done.announced is not None:
            self.record("keepalive announced", f"pingInterval {done.announced.ping_interval * 1000:.0f} ms, "
                                               f"pingTimeout {done.announced.ping_timeout * 1000:.0f} ms")

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _read_messages(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):
            async for message in self.ws:
                if await take_heartbeat(self, message):
                    continue
                self.record("message in", _preview(_masked(message, self.secrets)))
                self.messages.put_nowait(message)

    async def send(self, message: str | bytes) -> None:
        """Send one message."""
        assert self.ws is not None
        if self.behaviour is Behaviour.NO_PONG and self.profile.no_pong_silences_everything:
            self.record("message suppressed", "no-pong: the client stays wholly silent")
            return
        await self.ws.send(message)
        self.record("message out", _preview(_masked(message, self.secrets)))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close politely (close frame, then wait briefly); abort if that stalls."""
        self.closing_by_us = True
        for task in list(self._tasks or ()):
            task.cancel()
        if self.ws is None:
            return
        if self.behaviour is Behaviour.FROZEN or self.terminated_at is not None:
            self.abort()
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(code, reason), 2)
        self.abort()

    def abort(self) -> None:
        """Drop the TCP connection at once (no close handshake)."""
        self.closing_by_us = True
        for task in list(self._tasks or ()):
            task.cancel()
        self._release_freeze()
        if self.ws is not None and self.ws.transport is not None:
            self.ws.transport.abort()

    @property
    def is_open(self) -> bool:
        """Open from the client's side and not terminated by the server."""
        return (
            self.ws is not None
            and self.terminated_at is None
            and self.ws.protocol.state is WsState.OPEN
        )

    # -- behaviour ------------------------------------------------------------------------

    def set_behaviour(self, behaviour: Behaviour) -> None:
        """Switch how the client treats pings; records SILENT or OPEN accordingly."""
        previous, self.behaviour = self.behaviour, behaviour
        if behaviour is previous:
            return
        self.record("behaviour", behaviour.value)
        if previous is Behaviour.FROZEN and self.freeze is not None:
            freeze, self.freeze = self.freeze, None
            freeze.thaw()
        if behaviour is Behaviour.FROZEN and self.ws is not None and not self.ws.transport.is_closing():
            self.freeze = freeze_for(self)
            self.freeze.start()
        if self.terminated_at is not None or self.state is ConnState.CLOSED:
            return
        if behaviour is Behaviour.RESPONSIVE:
            self.silent_since = None
            self.record_state(ConnState.OPEN, "responsive again")
        elif previous is Behaviour.RESPONSIVE:
            self.silent_since = time.monotonic()
            self.record_state(ConnState.SILENT, behaviour.value)

    def deliver_held(self, data: bytes, eof: bool) -> None:
        """Give websockets the bytes (and end of stream) a TLS freeze held back."""
        if isinstance(self.ws, RecordingClientConnection):
            self.ws.deliver(data, eof)

    def _release_freeze(self) -> None:
        if self.freeze is not None:
            freeze, self.freeze = self.freeze, None
            freeze.release()

    # -- client heartbeat --------------------------------------------------------------------

    def start_heartbeat(self, interval: float, timeout: float) -> None:
        """Ping the server every ``interval``; flag it unresponsive after ``timeout``.

        A profile whose client may not ping (Socket.IO) watches the server's pings instead:
        ``interval`` and ``timeout`` become the announced ``pingInterval`` and ``pingTimeout``
        (the given ones when the service announced none).
        """
        if not self.profile.client_pings:
            if self.announced is not None:
                interval, timeout = self.announced.ping_interval, self.announced.ping_timeout
            self.heartbeat_interval, self.heartbeat_timeout = interval, timeout
            self.record("heartbeat started", f"watching server pings: none within {interval * 1000:.0f} "
                                             f"+ {timeout * 1000:.0f} ms flags the server")
            self._spawn(watch_server_pings(self, interval + timeout))
            return
        self.heartbeat_interval, self.heartbeat_timeout = interval, timeout
        self.record("heartbeat started", f"every {interval * 1000:.0f} ms, timeout {timeout * 1000:.0f} ms")
        self._spawn(self._heartbeat(interval, timeout))

    async def _heartbeat(self, interval: float, timeout: float) -> None:
        assert self.ws is not None
        while True:
            await asyncio.sleep(interval)
            if self.behaviour is Behaviour.FROZEN:
                continue
            sent = time.monotonic()
            try:
                pong = await client_ping_round(self)
            except ConnectionClosed:
                return
            self.record("heartbeat ping")
            try:
                await asyncio.wait_for(asyncio.shield(pong), timeout)
            except TimeoutError:
                self.server_unresponsive_at = time.monotonic()
                self.record(
                    "server unresponsive",
                    f"no pong within {timeout * 1000:.0f} ms of a heartbeat ping",
                )
                return
            except ConnectionClosed:
                return
            rtt = (time.monotonic() - sent) * 1000
            self.rtts_ms.append(rtt)
            self.record("heartbeat pong", f"RTT {rtt:.2f} ms")

    def rtt_samples(self) -> list[float]:
        """A copy of the client heartbeat's round-trip times so far, in milliseconds.

        The heartbeat appends to ``rtts_ms`` on the loop; call this there too (keyword code:
        ``ctx.call(conn.rtt_samples)``), so every reader gets a consistent snapshot.
        """
        return list(self.rtts_ms)

    # -- waiting ------------------------------------------------------------------------

    async def wait_for(self, predicate: Any, timeout: float) -> bool:
        """Wait until ``predicate()`` holds or ``timeout`` passes; returns whether it held."""
        return await wait_until(predicate, self._changed, timeout)

    async def receive(self, timeout: float) -> str | bytes:
        """The next message from the server."""
        return await asyncio.wait_for(self.messages.get(), timeout)


def _preview(message: str | bytes, limit: int = 80) -> str:
    text = message if isinstance(message, str) else f"<{len(message)} bytes>"
    return text if len(text) <= limit else text[:limit] + "…"


def _masked(message: str | bytes, secrets: list[str]) -> str | bytes:
    """Text with secrets masked before any truncation (a cut token would escape the mask)."""
    return mask_secret(message, secrets) if isinstance(message, str) else message
