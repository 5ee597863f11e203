"""One proxied TCP connection: two links (client to server, server to client), each
reading, running its toxics and writing.

Each link has a reader task and a processor task joined by a small bounded queue.
Reading never waits for a slow toxic beyond the queue's bound, so every chunk is
stamped with the time it arrived (latency counts from there), and a blackhole keeps
draining the socket, as Toxiproxy does. When a link has no active toxic and nothing
queued, the reader writes straight through: the fast path costs one read and one
write per chunk.

The connection owns its four tasks; :meth:`Connection.run` cancels and awaits them
whatever happens, so nothing outlives the connection.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Iterable

from wsresilience.faultproxy.toxics import Stage
from wsresilience.faultproxy.wsframes import Frame, FrameParser

READ_SIZE = 256 * 1024
QUEUE_CHUNKS = 16
_LINGER_ZERO = struct.pack("ii", 1, 0)

_EOF = None


def _set_linger_zero(writer: asyncio.StreamWriter) -> None:
    """Make the next close of this socket send RST instead of FIN."""
    sock = writer.get_extra_info("socket")
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
    except OSError:
        pass


class Link:
    """One direction of a connection: ``reader`` to ``writer`` through the toxics."""

    def __init__(
        self,
        conn: Connection,
        stream: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.conn = conn
        self.stream = stream
        self.reader = reader
        self.writer = writer
        self.stages: dict[str, Stage] = {}
        self.parser = FrameParser()
        self._queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(QUEUE_CHUNKS)
        self._busy = False
        self._has_active = False
        self.bytes_in = 0
        self.bytes_out = 0
        #: How the peer this link reads from ended: the loop time each signal was first
        #: seen, ``"close frame"``, ``"FIN"`` or ``"RST"``. Noted even when a toxic keeps
        #: the signal from the other side (a blackhole), so a test can see who gave up.
        self.peer_ends: dict[str, float] = {}

    # -- toxics

    def attach(self, stage: Stage) -> None:
        self.stages[stage.toxic.name] = stage
        if stage.active:
            stage.start()
        self._refresh()

    def detach(self, name: str) -> None:
        stage = self.stages.pop(name, None)
        if stage is not None:
            stage.stop()
        self._refresh()

    def refresh(self) -> None:
        self._refresh()

    def _refresh(self) -> None:
        self._has_active = any(s.active for s in self.stages.values())

    def stop_stages(self) -> None:
        for stage in self.stages.values():
            stage.stop()

    def _note_end(self, how: str, when: float | None = None) -> None:
        """Note the peer's ``how`` (first time only; not once the proxy itself closed)."""
        if how in self.peer_ends or self.conn.closed:
            return
        self.peer_ends[how] = asyncio.get_running_loop().time() if when is None else when
        self.conn.changed.set()

    # -- tasks

    async def read_loop(self) -> None:
        """Read until EOF; write straight through when no toxic is in the way."""
        reader, queue = self.reader, self._queue
        loop = asyncio.get_running_loop()
        try:
            while True:
                data = await reader.read(READ_SIZE)
                if not data:
                    self._note_end("FIN")
                    break
                self.bytes_in += len(data)
                if not self._has_active and not self._busy and queue.empty():
                    self.parser.feed(data)
                    if self.parser.close_frames and "close frame" not in self.peer_ends:
                        self._note_end("close frame")
                    await self._write(data)
                else:
                    await queue.put((loop.time(), data))
        except (ConnectionError, OSError):
            # The peer reset (or the socket broke): pass the abruptness on.
            self._note_end("RST")
            self.conn.reset()
            return
        await queue.put(_EOF)

    async def process_loop(self) -> None:
        """Take queued chunks in order and run them through the active toxics."""
        while True:
            item = await self._queue.get()
            self._busy = True
            try:
                if item is _EOF:
                    await self._eof()
                    return
                arrived, data = item
                await self._process(data, arrived)
            finally:
                self._busy = False

    async def _process(self, data: bytes, arrived: float) -> None:
        active = [s for s in self.stages.values() if s.active]
        frame_stages = [s for s in active if s.frames]
        byte_stages = [s for s in active if not s.frames]
        if frame_stages:
            out = bytearray()
            for piece in self.parser.feed(data, assemble=True):
                if isinstance(piece, Frame):
                    frames = [piece]
                    for stage in frame_stages:
                        frames = [g for f in frames for g in stage.on_frame(f)]
                    for frame in frames:
                        out += frame.header
                        out += frame.payload
                else:
                    out += piece.data
            data = bytes(out)
        else:
            self.parser.feed(data)
        if self.parser.close_frames and "close frame" not in self.peer_ends:
            self._note_end("close frame", arrived)
        if data and not self.conn.closed:
            await self._through(byte_stages, 0, data, arrived)
        if frame_stages and any(s.reset_requested for s in frame_stages):  # type: ignore[attr-defined]
            self.conn.reset()

    async def _through(self, stages: list[Stage], index: int, data: bytes, arrived: float) -> None:
        if index == len(stages):
            await self._write(data)
            return

        async def emit(piece: bytes) -> None:
            await self._through(stages, index + 1, piece, arrived)

        await stages[index].process(data, arrived, emit)

    async def _write(self, data: bytes) -> None:
        if self.conn.closed or not data:
            return
        self.writer.write(data)
        self.bytes_out += len(data)
        try:
            await self.writer.drain()
        except (ConnectionError, OSError):
            self.conn.reset()

    async def _eof(self) -> None:
        for stage in [s for s in self.stages.values() if s.active]:
            await stage.on_eof()
        if self.conn.closed:
            return
        try:
            if self.writer.can_write_eof():
                self.writer.write_eof()
        except (ConnectionError, OSError):
            self.conn.reset()
            return
        self.conn.link_finished(self)


class Connection:
    """A client connection and its upstream connection, joined by two links."""

    def __init__(
        self,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        self.client_writer = client[1]
        self.upstream_writer = upstream[1]
        self.links = {
            "upstream": Link(self, "upstream", client[0], upstream[1]),
            "downstream": Link(self, "downstream", upstream[0], client[1]),
        }
        self.closed = False
        self.how_closed = ""
        self._done = asyncio.Event()
        self._finished: set[str] = set()
        #: Set when a peer's end is noted (``Link.peer_ends``) and when the connection ends.
        self.changed = asyncio.Event()

    @property
    def writers(self) -> Iterable[asyncio.StreamWriter]:
        return (self.client_writer, self.upstream_writer)

    async def run(self) -> None:
        """Pump both directions until the connection ends, then release everything."""
        tasks = []
        for link in self.links.values():
            tasks.append(asyncio.create_task(link.read_loop()))
            tasks.append(asyncio.create_task(link.process_loop()))
        try:
            await self._done.wait()
        finally:
            if not self.closed:
                self.abort()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for link in self.links.values():
                link.stop_stages()

    def link_finished(self, link: Link) -> None:
        """A direction has delivered its EOF; when both have, close gracefully."""
        self._finished.add(link.stream)
        if len(self._finished) == 2:
            self.close()

    def close(self) -> None:
        """Close both sides gracefully: buffered data is flushed, then FIN."""
        if self.closed:
            return
        self._finish("close")
        for writer in self.writers:
            writer.close()

    def reset(self) -> None:
        """Close both sides abruptly: SO_LINGER 0, so the peers get RST."""
        if self.closed:
            return
        self._finish("reset")
        for writer in self.writers:
            _set_linger_zero(writer)
            writer.transport.abort()

    def abort(self) -> None:
        """Drop both sides now without waiting for buffered data (used on stop)."""
        if self.closed:
            return
        self._finish("abort")
        for writer in self.writers:
            writer.transport.abort()

    def _finish(self, how: str) -> None:
        self.closed = True
        self.how_closed = how
        for link in self.links.values():
            link.stop_stages()
        self._done.set()
        self.changed.set()
