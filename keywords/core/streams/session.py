"""A client that receives resumable streams across connection cuts.

A :class:`StreamSession` holds one connection at a time to a streaming service and any
number of streams on it. It cuts the connection on demand (abort: no close handshake, the
unread bytes lost), reconnects with a :class:`~wsresilience.core.streams.backoff.BackoffPolicy`, and
resumes every unfinished stream from its last contiguous seq. Each stream's chunks go into
a :class:`~wsresilience.core.streams.assembly.StreamAssembly`; each recovery is timed (cut →
reconnected → first resumed chunk → complete) on the monotonic clock.

A start, a resume or a wait for the end fails at once, in one line naming what arrived, when
its connection brings a message the protocol does not allow or ends under it
(:class:`~wsresilience.core.streams.connection.StreamConnection`); only silence waits out
the timeout.

Everything here runs on the library's event loop; keyword code reads the results.
"""

from __future__ import annotations

import asyncio
import itertools
import ssl
import time
from collections.abc import Callable
from typing import Any


from wsresilience.core.client.limits import DEFAULT_MAX_MESSAGE_SIZE
from wsresilience.core.runtime.loop import gather_settled, wait_until
from wsresilience.core.streams.adapter import Event, Refused, Started, StreamAdapter, StreamRequest
from wsresilience.core.streams.assembly import StreamAssembly
from wsresilience.core.streams.backoff import BackoffPolicy, RetryLog, retry
from wsresilience.core.streams.connection import StreamConnection
from wsresilience.core.streams.intake import MessageIntake
from wsresilience.core.streams.recovery import resume_connection
from wsresilience.core.streams.tracked import Recovery, TrackedStream
from wsresilience.errors import ProtocolFailure, ResilienceFailure, StreamRefused, WaitTimeout

__all__ = ["Recovery", "StreamSession", "TrackedStream", "close_sessions"]


class StreamSession(MessageIntake):
    """Streams over one (replaceable) connection; runs on the event loop. What each incoming
    message does to its streams is :class:`~wsresilience.core.streams.intake.MessageIntake`'s."""

    def __init__(self, name: str, url: str, adapter: StreamAdapter, policy: BackoffPolicy,
                 open_timeout: float = 5.0, ack_every: int = 16,
                 max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.name = name
        self.url = url
        #: TLS for a ``wss://`` url (``None`` for ``ws://``), used by every (re)connection.
        self.ssl_context = ssl_context
        #: The session's own adapter (:meth:`StreamAdapter.for_session`).
        self.adapter = adapter.for_session()
        self.policy = policy
        self.open_timeout = open_timeout
        self.ack_every = ack_every
        #: The largest message (bytes) each of its connections accepts.
        self.max_message_size = max_message_size
        self.streams: dict[str, TrackedStream] = {}
        self.by_id: dict[str, TrackedStream] = {}
        self.connection: StreamConnection | None = None
        self.connections = 0
        self.cuts: list[float] = []
        self.connects: list[float] = []
        self.retry_logs: list[RetryLog] = []
        self.unexpected: list[str] = []
        self.changed = asyncio.Event()
        self._pending: dict[str, asyncio.Future[Started | Refused]] = {}
        #: Resumes of stream ids the service never issued, waiting for their answer, by id.
        self.probes: dict[str, asyncio.Future[Event]] = {}
        #: The epoch the service announced last (in a start), sent with every resume.
        self.epoch = ""
        self._refs = itertools.count(1)
        #: Called with the connection to cut it another way (e.g. through a fault proxy).
        self.cutter: Callable[[StreamConnection], Any] | None = None
        #: How ``url`` reaches the service, for messages (`` through proxy 'x' in front of …``).
        self.via = ""
        self._cutting: asyncio.Task[Any] | None = None

    # -- connecting --------------------------------------------------------------------

    async def connect(self) -> RetryLog:
        """Open a new connection, retrying per the policy; returns the attempts."""
        if self._cutting is not None:  # a cut through the network must land before we reconnect
            await self._cutting
            self._cutting = None
        log = RetryLog(self.policy)
        self.retry_logs.append(log)

        async def attempt() -> StreamConnection:
            self.connections += 1
            conn = StreamConnection(f"{self.name}-{self.connections}", self.adapter.connect_url(self.url),
                                    self.connections, self.on_message, self.changed.set)
            await conn.open(self.open_timeout, self.ssl_context, max_size=self.max_message_size)
            if self.adapter.handshake:  # usable once the application handshake is done
                try:
                    await self.answer(conn, lambda: conn.handshake is not None, "the end of the "
                                       f"{self.adapter.name} handshake", self.open_timeout)
                except BaseException:
                    conn.abort()
                    raise
            return conn

        old = self.connection
        self.connection = await retry(attempt, self.policy, f"connecting to {self.masked_url}{self.via}", log)
        if old is not None:
            old.cut = True
            old.abort()
        self.connects.append(time.monotonic())
        return log

    @property
    def masked_url(self) -> str:
        """The service URL with passwords and secret query values hidden, for messages."""
        from wsresilience.core.masking import mask_url

        return mask_url(self.url)

    async def close(self) -> None:
        """Close the current connection (with a close handshake)."""
        if self.connection is not None:
            await self.connection.close()

    # -- streams -----------------------------------------------------------------------

    async def start(self, name: str, request: StreamRequest, timeout: float,
                    cut_after: int | None = None) -> TrackedStream:
        """Ask for a stream and wait for the service to accept it; ``cut_after`` arms a cut
        at that chunk before the request goes out, so no chunk can arrive before it."""
        if name in self.streams:
            raise ValueError(f"A stream named {name!r} already exists in session {self.name!r}.")
        conn = self.require_connection()
        ref = f"{name}-{next(self._refs)}"
        future: asyncio.Future[Started | Refused] = asyncio.get_running_loop().create_future()
        self._pending[ref] = future
        stream = TrackedStream(name, request, started_at=time.monotonic(), cut_after=cut_after)
        self.streams[name] = stream
        await conn.send(self.adapter.start_message(request, ref))
        try:
            await self.answer(conn, future.done, f"the answer to the start of stream {name!r}", timeout)
        except BaseException:
            del self.streams[name]
            raise
        finally:
            self._pending.pop(ref, None)
        answer = future.result()
        if isinstance(answer, Refused):
            del self.streams[name]
            raise StreamRefused(f"Starting stream {name!r}", answer)
        return stream

    def _register(self, ref: str, started: Started) -> None:
        """Track a started stream at once: its first chunk may follow in the same read."""
        stream = self.streams.get(ref.rsplit("-", 1)[0])
        if stream is None or stream.stream_id:
            return
        stream.stream_id, stream.epoch = started.stream_id, started.epoch
        self.epoch = started.epoch or self.epoch
        stream.assembly = StreamAssembly(started.kind, started.size, started.schema,
                                         started.components)
        self.by_id[started.stream_id] = stream

    def require_connection(self) -> StreamConnection:
        if self.connection is None or not self.connection.is_open:
            raise ResilienceFailure(f"Session {self.name!r} has no open connection to {self.masked_url}.")
        return self.connection

    # -- cutting and resuming ----------------------------------------------------------------

    def cut(self, how: str = "abort", now: float | None = None) -> None:
        """Cut the connection now (abort: no close handshake); record it on open streams."""
        conn = self.connection
        if conn is None or conn.cut:
            return
        now = time.monotonic() if now is None else now
        conn.cut = True
        self.cuts.append(now)
        for stream in self.streams.values():
            if stream.ended_at is None:
                stream.recoveries.append(Recovery(now, stream.assembly.last_contiguous, how))
        if self.cutter is not None:
            outcome = self.cutter(conn)
            if asyncio.iscoroutine(outcome):
                self._cutting = asyncio.get_running_loop().create_task(outcome)
        else:
            conn.abort()
        self.changed.set()

    async def cut_after_chunks(self, name: str, count: int, timeout: float) -> int | None:
        """Cut the connection the moment stream ``name`` holds ``count`` chunks (at once if
        it already does); returns its last contiguous seq at the cut, or ``None`` when the
        stream did not get that far within ``timeout``."""
        stream = self.streams[name]
        stream.cut_after = count
        if stream.assembly.received >= count:
            self.cut("after chunk")
        conn = self.connection
        if conn is None:
            raise ResilienceFailure(f"Session {self.name!r} has no connection to {self.masked_url}.")
        if not await conn.wait_for(lambda: conn.cut, timeout):
            return None
        return stream.assembly.last_contiguous

    async def resume(self, timeout: float, away: float = 0.0) -> None:
        """Reconnect (with retries) and resume every unfinished stream; wait for the answers.
        With a ``resumes_connection`` adapter the reconnect's handshake is the resume
        (:func:`~wsresilience.core.streams.recovery.resume_connection`). ``away``: stay
        disconnected that long first (the service goes on emitting: what a resume replays)."""
        if away > 0:
            await asyncio.sleep(away)
            for stream in self.streams.values():
                if stream.ended_at is None and stream.recoveries and stream.recoveries[-1].connected_at is None:
                    stream.recoveries[-1].away_s += away
        if self.adapter.resumes_connection:
            return await resume_connection(self, timeout)
        log = await self.connect()
        conn = self.require_connection()
        now = time.monotonic()
        waiting = [s for s in self.streams.values() if s.ended_at is None]
        for stream in waiting:
            if not stream.recoveries or stream.recoveries[-1].resume_sent_at is not None:
                # Dropped without a cut of ours (the first time, or after an earlier resume):
                # a recovery of its own, so the earlier one's record and verdict stay as they were.
                stream.recoveries.append(Recovery(now, stream.assembly.last_contiguous, "lost"))
            recovery = stream.recoveries[-1]
            recovery.connected_at, recovery.attempts = now, len(log.attempts)
            recovery.last_seq = stream.assembly.last_contiguous
            stream.refused = None
            stream.acked = min(stream.acked, recovery.last_seq)
            recovery.resume_sent_at = time.monotonic()
            await conn.send(self.adapter.resume_message(stream.stream_id, recovery.last_seq,
                                                        stream.epoch))

        # A fast stream may be cut again before we look: judge the recoveries we resumed.
        resumed = {s.name: s.recoveries[-1] for s in waiting}

        def has_answer(s: TrackedStream) -> bool:
            r = resumed[s.name]
            return s.refused is not None or r.resumed_from is not None or r.first_chunk_at is not None

        names = ", ".join(s.name for s in waiting)
        try:
            await self.answer(conn, lambda: all(has_answer(s) for s in waiting),
                               f"the answer to the resume of {names}", timeout)
        except WaitTimeout:
            silent = [s.name for s in waiting if not has_answer(s)]
            raise ResilienceFailure(f"No answer to the resume of {', '.join(silent)} within "
                                    f"{timeout:.3f} s from {self.masked_url}.") from None
        # Only an error before any other answer refuses the resume; a later one answers
        # something else (an ack, say) and must not be read as the resume's refusal.
        refused = [s for s in waiting if s.refused is not None
                   and resumed[s.name].resumed_from is None and resumed[s.name].first_chunk_at is None]
        if refused:
            raise StreamRefused(f"Resuming stream {refused[0].name!r}", refused[0].refused)  # type: ignore[arg-type]

    async def wait_complete(self, names: list[str], timeout: float) -> bool:
        """Wait until every named stream has ended (verify it to know whether it is whole)."""
        streams = [self.streams[n] for n in names]
        try:
            await self.answer(self.connection, lambda: all(s.ended_at is not None for s in streams),
                               f"the end of {', '.join(repr(n) for n in names)}", timeout)
        except WaitTimeout:
            return False
        return True

    async def answer(self, conn: StreamConnection | None, answered: Callable[[], bool], what: str,
                      timeout: float) -> None:
        """Wait until ``answered()``; fail at once with :class:`ProtocolFailure`, naming what
        arrived, when ``conn`` brings a message the protocol does not allow or ends first,
        and with :class:`WaitTimeout` when ``timeout`` passes in silence."""

        def broken() -> str | None:
            return None if conn is None else conn.broken

        began = time.monotonic()
        await wait_until(lambda: answered() or broken() is not None, self.changed, timeout)
        if answered():
            return
        took = time.monotonic() - began
        if (said := broken()) is not None:
            raise ProtocolFailure(f"Expected {what} from {self.masked_url}; {said}, after {took:.3f} s.")
        raise WaitTimeout(what, took, self.masked_url)


async def close_sessions(sessions: list[StreamSession]) -> None:
    """Close every session's connection; one failing to close does not stop the others."""
    await gather_settled(*(s.close() for s in sessions))
