"""A client that receives resumable streams across connection cuts.

A :class:`StreamSession` holds one connection at a time to a streaming service and any
number of streams on it. It cuts the connection on demand (abort: no close handshake, the
unread bytes lost), reconnects with a :class:`~wsresilience.core.streams.backoff.BackoffPolicy`, and
resumes every unfinished stream from its last contiguous seq. Each stream's chunks go into
a :class:`~wsresilience.core.streams.assembly.StreamAssembly`; each recovery is timed (cut →
reconnected → first resumed chunk → complete) on the monotonic clock.

Everything here runs on the library's event loop; keyword code reads the results.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed

from wsresilience.core.client.connection import ObservedConnection
from wsresilience.core.client.limits import DEFAULT_MAX_MESSAGE_SIZE
from wsresilience.core.runtime.loop import gather_settled, wait_until
from wsresilience.core.streams.adapter import ChunkIn, Ended, Refused, Resumed, Started, StreamAdapter, StreamRequest
from wsresilience.core.streams.assembly import EndInfo, StreamAssembly
from wsresilience.core.streams.backoff import BackoffPolicy, RetryLog, retry
from wsresilience.core.streams.tracked import Recovery, TrackedStream
from wsresilience.errors import ResilienceFailure, StreamRefused

__all__ = ["Recovery", "StreamSession", "TrackedStream", "close_sessions"]


class _StreamConnection(ObservedConnection):
    """An observed connection whose messages go straight to the session (no queue)."""

    def __init__(self, name: str, url: str, session: StreamSession, number: int) -> None:
        super().__init__(name, url)
        self.session = session
        self.number = number
        self.cut = False

    async def _read_messages(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):
            async for message in self.ws:
                if self.cut:
                    return  # what was still buffered when we cut is lost, as on a real cut
                await self.session.on_message(self, message)
        self.session.changed.set()


class StreamSession:
    """Streams over one (replaceable) connection; runs on the event loop."""

    def __init__(self, name: str, url: str, adapter: StreamAdapter, policy: BackoffPolicy,
                 open_timeout: float = 5.0, ack_every: int = 16,
                 max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self.name = name
        self.url = url
        self.adapter = adapter
        self.policy = policy
        self.open_timeout = open_timeout
        self.ack_every = ack_every
        #: The largest message (bytes) each of its connections accepts.
        self.max_message_size = max_message_size
        self.streams: dict[str, TrackedStream] = {}
        self.by_id: dict[str, TrackedStream] = {}
        self.connection: _StreamConnection | None = None
        self.connections = 0
        self.cuts: list[float] = []
        self.connects: list[float] = []
        self.retry_logs: list[RetryLog] = []
        self.unexpected: list[str] = []
        self.changed = asyncio.Event()
        self._pending: dict[str, asyncio.Future[Started | Refused]] = {}
        self._refs = itertools.count(1)
        #: Called with the connection to cut it another way (e.g. through a fault proxy).
        self.cutter: Callable[[_StreamConnection], Any] | None = None
        self._cutting: asyncio.Task[Any] | None = None

    # -- connecting --------------------------------------------------------------------

    async def connect(self) -> RetryLog:
        """Open a new connection, retrying per the policy; returns the attempts."""
        if self._cutting is not None:  # a cut through the network must land before we reconnect
            await self._cutting
            self._cutting = None
        log = RetryLog(self.policy)
        self.retry_logs.append(log)

        async def attempt() -> _StreamConnection:
            self.connections += 1
            conn = _StreamConnection(f"{self.name}-{self.connections}", self.url, self,
                                     self.connections)
            await conn.open(self.open_timeout, max_size=self.max_message_size)
            return conn

        old = self.connection
        self.connection = await retry(attempt, self.policy, f"connecting to {self.masked_url}", log)
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
        conn = self._require_connection()
        ref = f"{name}-{next(self._refs)}"
        future: asyncio.Future[Started | Refused] = asyncio.get_running_loop().create_future()
        self._pending[ref] = future
        stream = TrackedStream(name, request, started_at=time.monotonic(), cut_after=cut_after)
        self.streams[name] = stream
        await conn.send(self.adapter.start_message(request, ref))
        try:
            answer = await asyncio.wait_for(future, timeout)
        finally:
            self._pending.pop(ref, None)
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
        stream.assembly = StreamAssembly(started.kind, started.size, started.schema,
                                         started.components)
        self.by_id[started.stream_id] = stream

    def _require_connection(self) -> _StreamConnection:
        if self.connection is None or not self.connection.is_open:
            raise ResilienceFailure(f"Session {self.name!r} has no open connection to {self.masked_url}.")
        return self.connection

    async def on_message(self, conn: _StreamConnection, raw: str | bytes) -> None:
        try:
            events = self.adapter.parse(raw)
        except Exception as exc:  # a bad message must not kill the reader
            self.unexpected.append(f"unparsable message ({type(exc).__name__}: {exc})")
            events = []
        now = time.monotonic()
        for event in events:
            if isinstance(event, ChunkIn):
                await self._on_chunk(conn, event, now)
            elif isinstance(event, Ended):
                await self._on_end(conn, event, now)
            elif isinstance(event, Started | Refused) and event.ref in self._pending:
                future = self._pending[event.ref]  # type: ignore[index]
                if isinstance(event, Started):
                    self._register(event.ref, event)
                if not future.done():
                    future.set_result(event)
            elif isinstance(event, Refused) and event.stream_id in self.by_id:
                self.by_id[event.stream_id].refused = event
            elif isinstance(event, Resumed) and event.stream_id in self.by_id:
                stream = self.by_id[event.stream_id]
                answered = [r for r in stream.recoveries if r.resume_sent_at is not None]
                if answered:
                    answered[-1].resumed_from = event.from_seq
            else:
                self.unexpected.append(f"{type(event).__name__}: {event}")
        self.changed.set()

    async def _on_chunk(self, conn: _StreamConnection, chunk: ChunkIn, now: float) -> None:
        stream = self.by_id.get(chunk.stream_id)
        if stream is None:
            self.unexpected.append(f"chunk {chunk.seq} of unknown stream")
            return
        recovery = stream.recovering
        if recovery is not None:
            recovery.first_chunk_at, recovery.first_seq = now, chunk.seq
            expected = recovery.last_seq + 1
            if chunk.seq != expected:
                stream.resume_violations.append(
                    f"resumed after seq {recovery.last_seq}, the first chunk replayed was seq "
                    f"{chunk.seq} (expected {expected})")
        stream.assembly.add(chunk.seq, chunk.data, chunk.component, conn.number, now,
                            replay=bool(stream.recoveries))
        if stream.cut_after is not None and stream.assembly.received >= stream.cut_after:
            stream.cut_after = None
            self.cut("after chunk", now)
            return
        if stream.assembly.last_contiguous - stream.acked >= self.ack_every:
            await self._ack(conn, stream)

    async def _on_end(self, conn: _StreamConnection, end: Ended, now: float) -> None:
        stream = self.by_id.get(end.stream_id)
        if stream is None:
            return
        stream.assembly.finish(EndInfo(end.chunks, end.sha256, end.size, end.components))
        stream.ended_at = now
        recovery = stream.recovering
        if recovery is not None:
            recovery.first_chunk_at = now  # nothing left to replay: the end is the answer
        if stream.assembly.complete:
            stream.completed_at = now
            for r in stream.recoveries:
                r.completed_at = r.completed_at or now
            await self._ack(conn, stream)

    async def _ack(self, conn: _StreamConnection, stream: TrackedStream) -> None:
        message = self.adapter.ack_message(stream.stream_id, stream.assembly.last_contiguous)
        if message is None or conn.cut:
            return
        stream.acked = stream.assembly.last_contiguous
        with contextlib.suppress(ConnectionClosed):
            await conn.send(message)

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

    async def ask_resume_of(self, stream_id: str, timeout: float) -> str:
        """Resume ``stream_id`` (which the service never issued) on the open connection;
        returns the first unexpected answer, or ``""`` when none came within ``timeout``."""
        conn = self._require_connection()
        self.unexpected.clear()
        await conn.send(self.adapter.resume_message(stream_id, 3, ""))
        answered = await conn.wait_for(lambda: bool(self.unexpected), timeout)
        return self.unexpected[-1] if answered else ""

    async def resume(self, timeout: float) -> None:
        """Reconnect (with retries) and resume every unfinished stream; wait for the answers."""
        log = await self.connect()
        conn = self._require_connection()
        now = time.monotonic()
        waiting = [s for s in self.streams.values() if s.ended_at is None]
        for stream in waiting:
            if not stream.recoveries:  # dropped without a cut of ours
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

        if not await wait_until(lambda: all(has_answer(s) for s in waiting), self.changed, timeout):
            silent = [s.name for s in waiting if not has_answer(s)]
            raise ResilienceFailure(f"No answer to the resume of {', '.join(silent)} within "
                                 f"{timeout:.3f} s from {self.masked_url}.")
        # Only an error before any other answer refuses the resume; a later one answers
        # something else (an ack, say) and must not be read as the resume's refusal.
        refused = [s for s in waiting if s.refused is not None
                   and resumed[s.name].resumed_from is None and resumed[s.name].first_chunk_at is None]
        if refused:
            raise StreamRefused(f"Resuming stream {refused[0].name!r}", refused[0].refused)  # type: ignore[arg-type]

    async def wait_complete(self, names: list[str], timeout: float) -> bool:
        """Wait until every named stream has ended (verify it to know whether it is whole)."""
        streams = [self.streams[n] for n in names]
        return await wait_until(lambda: all(s.ended_at is not None for s in streams),
                                self.changed, timeout)

    async def run_with_cuts(self, names: list[str], every_chunks: int | None,
                            every_seconds: float | None, max_cuts: int, timeout: float) -> int:
        """Receive the streams, cutting every ``every_chunks`` or ``every_seconds`` and
        resuming each time, until they complete; returns how many cuts were made."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        streams = [self.streams[n] for n in names]
        cuts = 0

        def done() -> bool:
            return all(s.ended_at is not None for s in streams)

        def cut_or_done() -> bool:
            return done() or self.connection is None or self.connection.cut

        while not done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ResilienceFailure(self.progress("did not complete", streams, timeout))
            if cuts < max_cuts and every_chunks:
                lead = next(s for s in streams if s.ended_at is None)
                if lead.cut_after is None:
                    lead.cut_after = lead.assembly.received + every_chunks
                await wait_until(cut_or_done, self.changed, remaining)
            elif cuts < max_cuts and every_seconds:
                await wait_until(done, self.changed, min(every_seconds, remaining))
                if not done():
                    self.cut("every interval")
            else:
                await wait_until(done, self.changed, remaining)
                continue
            if done():
                break
            cuts += 1
            lead = next(s for s in streams if s.ended_at is None)
            # Arm the next cut before resuming: a fast stream may finish while we look away.
            lead.cut_after = (lead.assembly.received + every_chunks
                              if every_chunks and cuts < max_cuts else None)
            await self.resume(max(0.1, deadline - loop.time()))
        return cuts

    def progress(self, what: str, streams: list[TrackedStream], timeout: float) -> str:
        """One line saying how far each stream got, for a failure message."""
        parts = [f"{s.name}: {s.assembly.received} chunks, last contiguous seq "
                 f"{s.assembly.last_contiguous}, ended: {'yes' if s.ended_at else 'no'}"
                 for s in streams]
        conn = self.connection
        if conn is not None and conn.ended_by_client:  # say so: it was not the service's doing
            parts.append(f"the connection ended: {conn.termination}")
        return (f"Streams {what} within {timeout:.3f} s at {self.masked_url} "
                f"({'; '.join(parts)}).")


async def close_sessions(sessions: list[StreamSession]) -> None:
    """Close every session's connection; one failing to close does not stop the others."""
    await gather_settled(*(s.close() for s in sessions))
