"""Resumable streams (protocol section 7): numbered chunks that survive a reconnect.

A client asks for a stream; the server sends it as chunks with ``seq`` 1, 2, 3 … and ends
it with the chunk count and the SHA-256 of the whole payload. The server keeps every chunk
the client has not acknowledged (a cumulative ``stream-ack`` frees them). When the
connection drops, the stream keeps being produced into its buffer and stays resumable for
its resume window; a ``stream-resume`` on any connection replays everything after the
client's last seq and carries on live. After the window the buffer is gone, and a resume
gets an explicit ``window-expired`` error, never partial data.

Streams are identified by an unguessable id (a capability, like Ably's connection key), so
resuming needs no authentication. The server's ``epoch`` changes every time it starts:
a stream from another epoch cannot be resumed (its buffer died with the old process).
A start negotiates the wire format of its chunks (``stream/1`` or ``stream/2``: see
``stream_frames``); the rest is the same in both.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed

from ..client import Client
from ..defects import Defect
from ..host import ServerHost
from ..stream_content import Chunk, Content, generate
from ..stream_frames import MAX_BATCH_BYTES, MAX_BATCH_CHUNKS, STREAM_2, batch_frame, chunk_message, negotiate

DEFAULT_WINDOW_MS = 5000
MAX_WINDOW_MS = 60000
MAX_INTERVAL_MS = 10000
MAX_STREAMS_PER_CONNECTION = 64
#: Upper bound of a request's ``max_in_flight`` (chunks sent beyond the last ack).
MAX_IN_FLIGHT = 65536
#: How many retired stream ids are remembered, to tell "expired" from "unknown".
TOMBSTONES = 10000
#: Close code of the ``stream-control`` cut: "reconnect" range, resume on a new connection.
CLOSE_RESUME_LATER = 4000
#: Where the ``truncate-stream`` defect cuts every stream off.
TRUNCATE_AT_BYTES = 1024 * 1024


@dataclass(eq=False)
class Stream:
    """One stream: its content, what was produced, sent and acknowledged, and its owner."""

    id: str
    content: Content
    chunks: list[Chunk | None]
    end: dict[str, Any]
    window: float
    interval: float
    owner: Client | None = None
    #: At most this many chunks sent beyond the last ack (0: no limit); see ``max_in_flight``.
    max_in_flight: int = 0
    #: The protocol version negotiated at the start: how its chunks go on the wire.
    protocol: str = "stream/1"
    #: Chunks 1..produced exist (in the buffer unless acknowledged).
    produced: int = 0
    acked: int = 0
    next_send: int = 1
    #: Bumped on every attach, so a send to a previous owner never moves ``next_send``.
    generation: int = 0
    end_sent: bool = False
    corrupt_seq: int | None = None
    #: Resumes accepted so far (the seeded defect ``resume-skips-once`` skips on the first).
    resumes: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    expiry: asyncio.TimerHandle | None = None

    @property
    def total(self) -> int:
        return len(self.chunks)

    @property
    def buffered_bytes(self) -> int:
        return sum(len(c.data) for c in self.chunks[self.acked:self.produced] if c is not None)


class StreamService:
    """The streams of one server: registry, producers, resume and expiry."""

    def __init__(self, server: ServerHost) -> None:
        self.server = server
        self.epoch = secrets.token_hex(8)
        self.streams: dict[str, Stream] = {}
        #: Retired stream ids: why (``expired`` or ``complete``) and, for a complete
        #: stream, its end message, resent to a resume that holds every chunk.
        self.retired: OrderedDict[str, tuple[str, dict[str, Any] | None]] = OrderedDict()
        self.resumes = 0
        self.chunks_sent = 0

    def has(self, defect: Defect) -> bool:
        return self.server.config.has(defect)

    # -- messages -------------------------------------------------------------------------

    async def start(self, client: Client, message: dict[str, Any]) -> None:
        request = message.get("request") or {}
        if not isinstance(request, dict):
            raise ValueError("request must be an object")
        owned = [s for s in self.streams.values() if s.owner is client]
        if len(owned) >= MAX_STREAMS_PER_CONNECTION:
            await _error(client, "too-many-streams", f"at most {MAX_STREAMS_PER_CONNECTION} "
                         "streams per connection", ref=message.get("ref"))
            return
        content = generate(request)
        window = min(float(request.get("window_ms", DEFAULT_WINDOW_MS)), MAX_WINDOW_MS) / 1000
        interval = min(float(request.get("interval_ms", 0)), MAX_INTERVAL_MS) / 1000
        if window <= 0 or interval < 0:
            raise ValueError("window_ms must be > 0 and interval_ms >= 0")
        max_in_flight = int(request.get("max_in_flight", 0))
        if not 0 <= max_in_flight <= MAX_IN_FLIGHT:
            raise ValueError(f"max_in_flight must be 0..{MAX_IN_FLIGHT}, got {max_in_flight}")
        chunks: list[Chunk | None] = list(content.chunks)
        end = {"chunks": len(chunks), "bytes": content.size, "sha256": content.sha256}
        if content.components:
            end["components"] = [{k: c[k] for k in ("name", "chunks", "sha256")}
                                 for c in content.components]
        if self.has(Defect.TRUNCATE_STREAM) and content.size > TRUNCATE_AT_BYTES:
            keep = 0
            total = 0
            while keep < len(chunks) and total + len(content.chunks[keep].data) <= TRUNCATE_AT_BYTES:
                total += len(content.chunks[keep].data)
                keep += 1
            chunks = chunks[:keep]
            kept = "".join(c.data for c in content.chunks[:keep]).encode()
            end = {"chunks": keep, "bytes": len(kept), "sha256": hashlib.sha256(kept).hexdigest()}
        stream = Stream(secrets.token_urlsafe(18), content, chunks, end, window, interval, owner=client,
                        max_in_flight=max_in_flight, protocol=negotiate(message.get("protocols")))
        self.streams[stream.id] = stream
        started: dict[str, Any] = {
            "type": "stream-started", "stream": stream.id, "epoch": self.epoch,
            "protocol": stream.protocol, "kind": content.kind, "bytes": content.size,
            "window_ms": round(window * 1000),
        }
        if "ref" in message:
            started["ref"] = message["ref"]
        if content.schema is not None:
            started["schema"] = content.schema
        if content.components:
            started["components"] = [{"name": c["name"], "kind": c["kind"]} for c in content.components]
        await client.send_json(started)
        stream.task = asyncio.get_running_loop().create_task(self._run(stream))

    async def resume(self, client: Client, message: dict[str, Any]) -> None:
        stream_id = str(message.get("stream", ""))
        last_seq = int(message.get("last_seq", 0))
        epoch = message.get("epoch")
        if epoch is None and self.server.config.require_epoch:
            # Strict, and allowed (protocol section 8): without an epoch the server cannot
            # tell a buffer of this process from one that died with an earlier process.
            await _error(client, "epoch-changed", "the resume names no epoch, so it cannot be "
                         f"told apart from one of another server run (this epoch is {self.epoch})",
                         stream_id)
            return
        if epoch is not None and epoch != self.epoch:
            await _error(client, "epoch-changed", "the server restarted and lost its stream "
                         f"buffers (epoch {epoch} is not {self.epoch})", stream_id)
            return
        stream = None if self.has(Defect.FORGET_STREAMS) else self.streams.get(stream_id)
        if stream is None:
            reason, end = self.retired.get(stream_id, ("", None))
            if reason == "expired" and not self.has(Defect.FORGET_STREAMS):
                await _error(client, "window-expired", "the resume window of this stream has "
                             "passed; its buffer is gone", stream_id)
            elif reason == "complete" and not self.has(Defect.FORGET_STREAMS):
                if end is not None and last_seq >= int(end["chunks"]):
                    # The client acked every chunk but the cut took the end message:
                    # nothing to replay, but it still needs the end to verify.
                    await client.send_json({"type": "stream-resumed", "stream": stream_id,
                                            "from_seq": last_seq + 1, "epoch": self.epoch})
                    await client.send_json({"type": "stream-end", "stream": stream_id, **end})
                    return
                await _error(client, "stream-complete", "this stream was delivered and "
                             "acknowledged in full", stream_id)
            else:
                await _error(client, "unknown-stream", "no such stream", stream_id)
            return
        if not stream.acked <= last_seq <= stream.produced:
            await _error(client, "seq-out-of-range", f"last_seq {last_seq} is outside "
                         f"{stream.acked}..{stream.produced} (acknowledged..produced)", stream_id)
            return
        if stream.expiry is not None:
            stream.expiry.cancel()
            stream.expiry = None
        # The client holds 1..last_seq: a resume is a cumulative ack too (acks sent just
        # before the cut may have been lost with the connection).
        for i in range(stream.acked, last_seq):
            stream.chunks[i] = None
        stream.acked = last_seq
        start = last_seq + 1
        if self.has(Defect.RESUME_DUPLICATES) and last_seq >= 1:
            start = last_seq
        elif self.has(Defect.RESUME_SKIPS) or (self.has(Defect.RESUME_SKIPS_ONCE) and not stream.resumes):
            start = last_seq + 2
        if self.has(Defect.CORRUPT_ON_RESUME):
            stream.corrupt_seq = start
        stream.owner = client
        stream.generation += 1
        stream.next_send = start
        stream.end_sent = False
        stream.resumes += 1
        self.resumes += 1
        await client.send_json({"type": "stream-resumed", "stream": stream.id,
                                "from_seq": last_seq + 1, "epoch": self.epoch})
        stream.wake.set()

    async def ack(self, client: Client, message: dict[str, Any]) -> None:
        stream_id = str(message.get("stream", ""))
        seq = int(message.get("seq", 0))
        stream = self.streams.get(stream_id)
        if stream is None:
            reason, _ = self.retired.get(stream_id, ("", None))
            if reason == "complete":
                return  # acks repeat (last chunk, then the end): nothing left to free
            if reason == "expired":
                await _error(client, "window-expired", "the resume window of this stream has "
                             "passed; its buffer is gone", stream_id)
            else:
                await _error(client, "unknown-stream", "no such stream", stream_id)
            return
        if not 0 <= seq < stream.next_send or seq > stream.produced:
            await _error(client, "seq-out-of-range", f"cannot acknowledge seq {seq}: only "
                         f"1..{min(stream.next_send - 1, stream.produced)} were sent", stream_id)
            return
        for i in range(stream.acked, seq):
            stream.chunks[i] = None
        stream.acked = max(stream.acked, seq)
        if stream.acked == stream.total and stream.end_sent:
            self._retire(stream, "complete")
        elif stream.max_in_flight:
            stream.wake.set()  # the ack may reopen the in-flight window

    async def control(self, client: Client, message: dict[str, Any]) -> None:
        """``{"type": "stream-control", "action": "close", "code": 4000}``: server-side cut."""
        action = message.get("action")
        if action != "close":
            await _error(client, "unknown-action", f"unknown stream-control action {action!r}")
            return
        code = int(message.get("code", CLOSE_RESUME_LATER))
        if not 4000 <= code <= 4999:
            raise ValueError("code must be in 4000..4999")
        await client.ws.close(code, "resume-later" if code < 4400 else "stop")

    async def disconnected(self, client: Client) -> None:
        for stream in list(self.streams.values()):
            if stream.owner is client:
                self._detach(stream)

    def _detach(self, stream: Stream) -> None:
        """The owner is gone: keep producing into the buffer, resumable for the window."""
        stream.owner = None
        if stream.expiry is None:
            stream.expiry = asyncio.get_running_loop().call_later(
                stream.window, self._retire, stream, "expired")

    # -- producing and sending ----------------------------------------------------------------

    async def _run(self, stream: Stream) -> None:
        """Produce chunks at the stream's pace; send them in order to whoever owns it."""
        loop = asyncio.get_running_loop()
        next_due = loop.time()
        while True:
            now = loop.time()
            if stream.produced < stream.total and now >= next_due:
                if stream.interval <= 0:
                    stream.produced = stream.total
                else:
                    stream.produced += 1
                    next_due += stream.interval
                continue
            owner = stream.owner
            if owner is not None and stream.next_send <= stream.produced and (
                    not stream.max_in_flight
                    or stream.next_send <= stream.acked + stream.max_in_flight):
                if stream.protocol == STREAM_2:
                    await self._send_batch(stream, owner)
                else:
                    await self._send_chunk(stream, owner)
                continue
            if owner is not None and stream.next_send > stream.total and not stream.end_sent:
                generation = stream.generation
                try:
                    await owner.send_json({"type": "stream-end", "stream": stream.id, **stream.end})
                except ConnectionClosed:
                    if stream.owner is owner:
                        self._detach(stream)
                    continue
                if stream.generation == generation:
                    stream.end_sent = True
                if stream.acked == stream.total and stream.end_sent:
                    self._retire(stream, "complete")
                    return
                continue
            stream.wake.clear()
            timeout = max(0.0, next_due - loop.time()) if stream.produced < stream.total else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stream.wake.wait(), timeout)

    def _take(self, stream: Stream, seq: int) -> Chunk | None:
        """Chunk ``seq`` as sent (defects applied); ``None``: acked already (resume checks it)."""
        chunk = stream.chunks[seq - 1] if 1 <= seq <= stream.total else None
        if chunk is None and self.has(Defect.RESUME_DUPLICATES) and 1 <= seq <= stream.total:
            chunk = stream.content.chunks[seq - 1]  # the buggy replay re-reads its source
        if chunk is not None and stream.corrupt_seq == seq:
            stream.corrupt_seq = None
            chunk = Chunk(chr(ord(chunk.data[0]) ^ 0x01) + chunk.data[1:], chunk.component)
        return chunk

    async def _send_chunk(self, stream: Stream, owner: Client) -> None:
        """``stream/1``: the next chunk as its own JSON message."""
        seq = stream.next_send
        generation = stream.generation
        chunk = self._take(stream, seq)
        if chunk is None:
            stream.next_send += 1
        elif await self._send(stream, owner, chunk_message(stream.id, seq, chunk.data, chunk.component)):
            self.chunks_sent += 1
            if stream.generation == generation and stream.next_send == seq:
                stream.next_send = seq + 1

    async def _send_batch(self, stream: Stream, owner: Client) -> None:
        """``stream/2``: the chunks ready to go (in the window, to the limits) in one frame."""
        first = stream.next_send
        generation = stream.generation
        last = stream.produced
        if stream.max_in_flight:
            last = min(last, stream.acked + stream.max_in_flight)
        batch: list[tuple[int, str, str | None]] = []
        size = 0
        seq = first
        while seq <= last and len(batch) < MAX_BATCH_CHUNKS and size < MAX_BATCH_BYTES:
            chunk = self._take(stream, seq)
            if chunk is not None:
                batch.append((seq, chunk.data, chunk.component))
                size += len(chunk.data)
            seq += 1
        if batch and not await self._send(stream, owner, batch_frame(stream.id, batch)):
            return
        self.chunks_sent += len(batch)
        if stream.generation == generation and stream.next_send == first:
            stream.next_send = seq

    async def _send(self, stream: Stream, owner: Client, message: str | bytes) -> bool:
        """Send to the owner; on a closed connection detach the stream and return False."""
        try:
            await owner.send_raw(message)
        except ConnectionClosed:
            if stream.owner is owner:
                self._detach(stream)
            return False
        return True

    def _retire(self, stream: Stream, reason: str) -> None:
        if self.streams.pop(stream.id, None) is None:
            return
        if stream.expiry is not None:
            stream.expiry.cancel()
        if stream.task is not None and stream.task is not asyncio.current_task():
            stream.task.cancel()
        stream.chunks = []
        self.retired[stream.id] = (reason, stream.end if reason == "complete" else None)
        while len(self.retired) > TOMBSTONES:
            self.retired.popitem(last=False)


async def _error(client: Client, code: str, message: str, stream: str | None = None,
                 ref: Any = None) -> None:
    reply: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if stream is not None:
        reply["stream"] = stream
    if ref is not None:
        reply["ref"] = ref
    await client.send_json(reply)


def install(server: ServerHost) -> None:
    """Register the stream messages, the disconnect hook and the stream metrics."""
    service = StreamService(server)
    server.router.register("stream-start", service.start)
    server.router.register("stream-resume", service.resume)
    server.router.register("stream-ack", service.ack)
    server.router.register("stream-control", service.control)
    server.on_disconnected.append(service.disconnected)
    server.metrics.gauge("ws_streams_active", "Streams held by the server (attached or resumable).",
                         lambda: float(len(service.streams)))
    server.metrics.gauge("ws_stream_buffer_bytes", "Bytes of unacknowledged chunks buffered.",
                         lambda: float(sum(s.buffered_bytes for s in service.streams.values())))
    server.metrics.counter("ws_stream_resumes", "Successful stream resumes.",
                           lambda: float(service.resumes))
