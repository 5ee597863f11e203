"""How a stream session takes each incoming message: the hot path of every chunk.

:class:`MessageIntake` is the part of :class:`~wsresilience.core.streams.session.StreamSession`
that the connection calls once per message (:meth:`MessageIntake.on_message`): the adapter
turns the message into events, each chunk goes into its stream's assembly with its arrival
time, ends, answers and errors are recorded, and the acks that fall due are sent once per
message. It is kept apart because it runs once per chunk: at 4 KiB chunks a fast service
sends tens of thousands a second, and every call here counts (``bench/resume.py``, ingest).
So a message needs no coroutine unless an ack is due, and chunks take a path of their own.

A cut inside a message that carries several chunks (a ``stream/2`` batch) drops the rest of
it, as a cut between ``stream/1`` messages drops those still in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable

from websockets.exceptions import ConnectionClosed

from wsresilience.core.streams.adapter import (
    ChunkIn,
    Connected,
    Ended,
    Event,
    Refused,
    Reply,
    Resumed,
    Started,
    StreamAdapter,
)
from wsresilience.core.streams.assembly import EndInfo
from wsresilience.core.streams.connection import StreamConnection
from wsresilience.core.streams.tracked import TrackedStream


class MessageIntake:
    """Incoming messages into a session's streams (a base of ``StreamSession``, which sets
    the attributes below and provides :meth:`cut` and :meth:`_register`)."""

    adapter: StreamAdapter
    ack_every: int
    by_id: dict[str, TrackedStream]
    unexpected: list[str]
    changed: asyncio.Event
    _pending: dict[str, asyncio.Future[Started | Refused]]
    probes: dict[str, asyncio.Future[Event]]

    def cut(self, how: str = "abort", now: float | None = None) -> None:
        raise NotImplementedError

    def _register(self, ref: str, started: Started) -> None:
        raise NotImplementedError

    def on_message(self, conn: StreamConnection, raw: str | bytes) -> Awaitable[None] | None:
        """Take one message: its events recorded at once; returns the acks it makes due, to
        await, or ``None`` (most chunks need none, and then cost no coroutine)."""
        try:
            events = self.adapter.parse(raw)
        except Exception as exc:  # a bad message must not kill the reader; waits see it
            self.unexpected.append(conn.reject(raw, exc, self.adapter.name, list(self.by_id)))
            events = []
        now = time.monotonic()
        fed: list[TrackedStream] = []  # streams that got chunks: acked once, after the message
        ended: list[TrackedStream] = []  # streams now complete: acked to their end
        replies: list[str | bytes] = []  # heartbeat answers and handshake steps, sent first
        number = conn.number
        for event in events:
            if conn.cut:  # cut inside a batch: the rest of it is lost, as on a real cut
                break
            if isinstance(event, ChunkIn) and not self.probes:  # the hot path: one per chunk
                stream = self._on_chunk(event, number, now)
                if stream is not None and stream not in fed:
                    fed.append(stream)
            else:
                self._on_event(conn, event, now, fed, ended, replies)
        self.changed.set()
        every = self.ack_every
        due = ended + [s for s in fed if s.assembly.last_contiguous - s.acked >= every and s not in ended] \
            if ended else [s for s in fed if s.assembly.last_contiguous - s.acked >= every]
        return self._acks(conn, due, replies) if due or replies else None

    def _on_event(self, conn: StreamConnection, event: Event, now: float, fed: list[TrackedStream],
                  ended: list[TrackedStream], replies: list[str | bytes]) -> None:
        """Any event but a chunk no probe waits for: a message to send back (``replies``: a
        heartbeat answer, a handshake step), the end of the application handshake, a probe's
        answer, a chunk, an end (a stream now complete goes into ``ended``), a start's
        answer, an error, a resume's answer."""
        probe = self._probe_answered(event) if self.probes else None
        if isinstance(event, Reply):
            replies.append(event.message)
        elif isinstance(event, Connected):
            conn.handshake, conn.ready_at = event, now
        elif probe is not None:
            if not probe.done():
                probe.set_result(event)
        elif isinstance(event, ChunkIn):
            stream = self._on_chunk(event, conn.number, now)
            if stream is not None and stream not in fed:
                fed.append(stream)
        elif isinstance(event, Ended):
            stream = self._on_end(event, now)
            if stream is not None:
                ended.append(stream)
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
            self.unexpected.append(str(event))

    async def _acks(self, conn: StreamConnection, streams: list[TrackedStream],
                    replies: list[str | bytes] | None = None) -> None:
        for message in replies or ():
            with contextlib.suppress(ConnectionClosed):
                await conn.send(message)
        for stream in streams:
            await self._ack(conn, stream)

    def _probe_answered(self, event: Event) -> asyncio.Future[Event] | None:
        """The probe ``event`` answers: one naming its stream id, or an error naming no
        stream or request while a probe waits."""
        if not self.probes:
            return None
        stream_id = getattr(event, "stream_id", None)
        if stream_id in self.probes:
            return self.probes[stream_id]
        if isinstance(event, Refused) and stream_id is None and event.ref is None:
            return next(iter(self.probes.values()))
        return None

    def _on_chunk(self, chunk: ChunkIn, connection: int, now: float) -> TrackedStream | None:
        """Assemble ``chunk``; returns its stream, or ``None`` when the chunk cut the
        connection (or belongs to no stream). The caller acks, once per message."""
        stream = self.by_id.get(chunk.stream_id)
        if stream is None:
            self.unexpected.append(f"chunk {chunk.seq} of unknown stream")
            return None
        recoveries = stream.recoveries
        if recoveries and recoveries[-1].first_chunk_at is None:  # stream.recovering, inlined
            recoveries[-1].first_chunk_at, recoveries[-1].first_seq = now, chunk.seq  # judged with the stream
        stream.assembly.add(chunk.seq, chunk.data, chunk.component, connection, now, bool(recoveries))
        if stream.cut_after is not None and stream.assembly.received >= stream.cut_after:
            stream.cut_after = None
            self.cut("after chunk", now)
            return None
        return stream

    def _on_end(self, end: Ended, now: float) -> TrackedStream | None:
        """Record the end; returns the stream when it is now complete (to ack to its end)."""
        stream = self.by_id.get(end.stream_id)
        if stream is None:
            return None
        stream.assembly.finish(EndInfo(end.chunks, end.sha256, end.size, end.components))
        stream.ended_at = now
        recovery = stream.recovering
        if recovery is not None:
            recovery.first_chunk_at = now  # nothing left to replay: the end is the answer
        if stream.assembly.complete:
            stream.completed_at = now
            for r in stream.recoveries:
                r.completed_at = r.completed_at or now
            return stream
        return None

    async def _ack(self, conn: StreamConnection, stream: TrackedStream) -> None:
        message = self.adapter.ack_message(stream.stream_id, stream.assembly.last_contiguous)
        if message is None or conn.cut:
            return
        stream.acked = stream.assembly.last_contiguous
        with contextlib.suppress(ConnectionClosed):
            await conn.send(message)
