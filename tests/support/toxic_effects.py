"""Every toxic type, and how its effect shows on real traffic seen from the client.

A toxic that is accepted and then does nothing is a false PASS for every scenario that uses
it. Each :class:`EffectCase` here names a toxic definition (Toxiproxy JSON), the upstream it
needs (a websockets echo or a raw TCP echo) and a ``probe``: a coroutine that opens a client
connection through the proxy, adds the toxic (before connecting, or once the connection is
open and has carried data) and measures what the client sees — time, bytes, frames, how the
connection ended. The probe returns ``None`` when the effect is there and within its stated
bounds, else one line: what was expected, what was seen.

The same probe runs with the toxic added in-process and through the HTTP API, and once with
nothing added at all: then it must report the effect missing, or it could not catch an
inert toxic.

Bounds, stated once: a timer of T ms (latency, timeout, reset_peer, slow_close) must show
after at least T - :data:`EARLY` and at most T + :data:`LATE` (scheduling on a loaded 2-core
machine, and the HTTP call that adds the toxic); bandwidth within 20 % of the rate; "nothing
within a window" uses :data:`WINDOW`. Clients never offer permessage-deflate and payloads are
random, so the bytes on the wire are the bytes sent (byte toxics act on the wire).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, ConnectionClosedError

from support.fp_helpers import TCP_ESTABLISHED, tcp_state

EARLY = 0.002
LATE = 0.250
WINDOW = 1.0
#: How long any one read or echo may take when no toxic holds it.
IO_TIMEOUT = 5.0

#: Adds the toxic under test (in-process, over HTTP, or not at all for the control run).
AddToxic = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Opened:
    """A client connection through the proxy, and when the toxic was added (monotonic)."""

    client: Any
    added_at: float


@asynccontextmanager
async def tcp_client(port: int, add: AddToxic, already_open: bool) -> AsyncIterator[Opened]:
    """A raw TCP client; with ``already_open`` it echoes 100 bytes before the toxic is added."""
    if not already_open:
        added_at = time.monotonic()
        await add()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        if already_open:
            sent = os.urandom(100)
            writer.write(sent)
            async with asyncio.timeout(IO_TIMEOUT):
                assert await reader.readexactly(len(sent)) == sent, "the baseline echo came back altered"
            added_at = time.monotonic()
            await add()
        yield Opened((reader, writer), added_at)
    finally:
        writer.transport.abort()


@asynccontextmanager
async def ws_client(port: int, add: AddToxic, already_open: bool) -> AsyncIterator[Opened]:
    """A WebSocket client (no compression, no keepalive); with ``already_open`` it echoes
    one message before the toxic is added."""
    if not already_open:
        added_at = time.monotonic()
        await add()
    async with websockets.connect(f"ws://127.0.0.1:{port}/", compression=None, ping_interval=None,
                                  max_size=None, open_timeout=IO_TIMEOUT, close_timeout=1) as ws:
        if already_open:
            await ws.send("baseline")
            async with asyncio.timeout(IO_TIMEOUT):
                assert await ws.recv() == "baseline", "the baseline echo came back altered"
            added_at = time.monotonic()
            await add()
        yield Opened(ws, added_at)


async def read_for(reader: asyncio.StreamReader, want: int, within: float) -> tuple[bytes, int, str, float]:
    """Read until ``want`` bytes, EOF, a reset or ``within`` s: (data, reads, end, seconds)
    where ``end`` is ``"FIN"``, ``"RST"`` or ``"open"``."""
    start = time.monotonic()
    data, reads, end = bytearray(), 0, "open"
    try:
        async with asyncio.timeout(within):
            while len(data) < want:
                piece = await reader.read(65536)
                if not piece:
                    end = "FIN"
                    break
                data += piece
                reads += 1
    except TimeoutError:
        pass
    except ConnectionResetError:
        end = "RST"
    return bytes(data), reads, end, time.monotonic() - start


def within(what: str, seconds: float, low: float, high: float) -> str | None:
    """``None`` when ``low <= seconds <= high``, else the one-line complaint."""
    if low <= seconds <= high:
        return None
    return f"expected {what} after {low:.3f} to {high:.3f} s, seen after {seconds:.3f} s"


async def ws_collect(ws: ClientConnection, until: Callable[[list[Any]], bool], limit: float) -> tuple[list[Any], str]:
    """Messages received until ``until(messages)``, the connection ends or ``limit`` s pass;
    and how it ended: ``"open"``, ``"closed <code>"`` or ``"no close frame"``."""
    messages: list[Any] = []
    try:
        async with asyncio.timeout(limit):
            while not until(messages):
                messages.append(await ws.recv())
    except TimeoutError:
        pass
    except ConnectionClosedError as closed:
        return messages, "no close frame" if closed.rcvd is None else f"closed {closed.rcvd.code}"
    except ConnectionClosed as closed:
        return messages, f"closed {closed.rcvd.code if closed.rcvd else '?'}"
    return messages, "open"


# ------------------------------------------------------------------------------ the probes


def latency_probe(ms: int) -> Callable[..., Awaitable[str | None]]:
    async def probe(port: int, add: AddToxic, already_open: bool) -> str | None:
        async with ws_client(port, add, already_open) as opened:
            start = time.monotonic()
            await opened.client.send("ping")
            async with asyncio.timeout(IO_TIMEOUT):
                assert await opened.client.recv() == "ping"
            return within("the echo", time.monotonic() - start, ms / 1000 - EARLY, ms / 1000 + LATE)

    return probe


def bandwidth_probe(rate_kb: int, size: int) -> Callable[..., Awaitable[str | None]]:
    async def probe(port: int, add: AddToxic, already_open: bool) -> str | None:
        async with ws_client(port, add, already_open) as opened:
            payload = os.urandom(size)
            start = time.monotonic()
            await opened.client.send(payload)
            async with asyncio.timeout(IO_TIMEOUT):
                assert await opened.client.recv() == payload, "the echo came back altered"
            elapsed = time.monotonic() - start
        measured = size / elapsed / 1000
        if abs(measured - rate_kb) <= 0.2 * rate_kb:
            return None
        return (f"expected {size} B echoed at {rate_kb} KB/s +/- 20 % (about {size / rate_kb / 1000:.2f} s), "
                f"measured {measured:.0f} KB/s ({elapsed:.3f} s)")

    return probe


async def slicer_probe(port: int, add: AddToxic, already_open: bool) -> str | None:
    # 10 000 bytes halved down to pieces of at most 120 bytes: 128 pieces, 127 gaps of >= 1 ms.
    async with tcp_client(port, add, already_open) as opened:
        reader, writer = opened.client
        sent = os.urandom(10_000)
        writer.write(sent)
        data, reads, end, elapsed = await read_for(reader, len(sent), IO_TIMEOUT)
    if data != sent:
        return f"expected the 10000 bytes echoed intact, got {len(data)} bytes ({end})"
    if reads < 10 or elapsed < 0.100:
        return f"expected 10000 bytes in >= 10 reads over >= 0.100 s, got {reads} read(s) in {elapsed:.3f} s"
    return None


def timeout_probe(ms: int) -> Callable[..., Awaitable[str | None]]:
    async def probe(port: int, add: AddToxic, already_open: bool) -> str | None:
        async with tcp_client(port, add, already_open) as opened:
            reader, writer = opened.client
            writer.write(os.urandom(100))
            data, _, end, _ = await read_for(reader, 100, ms / 1000 + LATE + IO_TIMEOUT)
            elapsed = time.monotonic() - opened.added_at
        if data or end != "FIN":
            return f"expected no data and a FIN after {ms} ms, got {len(data)} bytes and {end} after {elapsed:.3f} s"
        return within("the FIN", elapsed, ms / 1000 - EARLY, ms / 1000 + LATE)

    return probe


async def blackhole_probe(port: int, add: AddToxic, already_open: bool) -> str | None:
    async with tcp_client(port, add, already_open) as opened:
        reader, writer = opened.client
        writer.write(os.urandom(100))
        data, _, end, _ = await read_for(reader, 100, WINDOW)
        state = tcp_state(writer.get_extra_info("socket"))
    if data or end != "open" or state != TCP_ESTABLISHED:
        return (f"expected no data, no FIN, no RST within {WINDOW} s and TCP established, "
                f"got {len(data)} bytes, {end}, TCP state {state}")
    return None


def reset_peer_probe(ms: int) -> Callable[..., Awaitable[str | None]]:
    async def probe(port: int, add: AddToxic, already_open: bool) -> str | None:
        async with tcp_client(port, add, already_open) as opened:
            reader, writer = opened.client
            writer.write(os.urandom(100))
            data, _, end, _ = await read_for(reader, 100, ms / 1000 + LATE + IO_TIMEOUT)
            elapsed = time.monotonic() - opened.added_at
        if data or end != "RST":
            return f"expected no data and a RST after {ms} ms, got {len(data)} bytes and {end} after {elapsed:.3f} s"
        return within("the RST", elapsed, ms / 1000 - EARLY, ms / 1000 + LATE)

    return probe


def slow_close_probe(ms: int) -> Callable[..., Awaitable[str | None]]:
    async def probe(port: int, add: AddToxic, already_open: bool) -> str | None:
        async with tcp_client(port, add, already_open) as opened:
            reader, writer = opened.client
            sent = os.urandom(100)
            writer.write(sent)
            data, _, end, _ = await read_for(reader, len(sent), IO_TIMEOUT)
            if data != sent:
                return f"expected the 100 bytes echoed before any close, got {len(data)} bytes ({end})"
            writer.write_eof()  # the echo server closes in turn: its FIN is what slow_close holds
            start = time.monotonic()
            rest, _, end, _ = await read_for(reader, 1, ms / 1000 + LATE + IO_TIMEOUT)
            elapsed = time.monotonic() - start
        if rest or end != "FIN":
            return f"expected the server's FIN and nothing else, got {len(rest)} bytes and {end}"
        return within("the server's FIN", elapsed, ms / 1000 - EARLY, ms / 1000 + LATE)

    return probe


def limit_data_probe(limit: int) -> Callable[..., Awaitable[str | None]]:
    async def probe(port: int, add: AddToxic, already_open: bool) -> str | None:
        async with tcp_client(port, add, already_open) as opened:
            reader, writer = opened.client
            sent = os.urandom(5 * limit)
            writer.write(sent)
            data, _, end, _ = await read_for(reader, len(sent), WINDOW)
        if data == sent[:limit] and end == "FIN":
            return None
        return f"expected the first {limit} of {len(sent)} bytes then a FIN, got {len(data)} bytes and {end}"

    return probe


async def drop_pongs_probe(port: int, add: AddToxic, already_open: bool) -> str | None:
    async with ws_client(port, add, already_open) as opened:
        ws = opened.client
        pong = await ws.ping()
        try:
            async with asyncio.timeout(WINDOW):
                await pong
        except TimeoutError:
            await ws.send("data")
            async with asyncio.timeout(IO_TIMEOUT):
                reply = await ws.recv()
            return None if reply == "data" else f"expected data to flow without pongs, got {reply!r}"
        return f"expected the server's pong dropped, it arrived within {WINDOW} s"


def cut_at_frame_probe(frame: int) -> Callable[..., Awaitable[str | None]]:
    async def probe(port: int, add: AddToxic, already_open: bool) -> str | None:
        async with ws_client(port, add, already_open) as opened:
            sent = [os.urandom(100) for _ in range(frame + 2)]
            for message in sent:
                await opened.client.send(message)
            got, end = await ws_collect(opened.client, lambda m: len(m) == len(sent), IO_TIMEOUT)
        if got == sent[: frame - 1] and end == "no close frame":
            return None
        return (f"expected {frame - 1} echo(es) then a cut without a close frame, "
                f"got {len(got)} of {len(sent)} echoes, connection {end}")

    return probe


def duplicate_frame_probe(frame: int) -> Callable[..., Awaitable[str | None]]:
    async def probe(port: int, add: AddToxic, already_open: bool) -> str | None:
        async with ws_client(port, add, already_open) as opened:
            sent = [os.urandom(100) for _ in range(frame + 1)] + ["end"]
            for message in sent:
                await opened.client.send(message)
            got, end = await ws_collect(opened.client, lambda m: bool(m) and m[-1] == "end", IO_TIMEOUT)
        expected = sent[:frame] + sent[frame - 1 :]
        if got == expected:
            return None
        return f"expected {len(expected)} echoes with message {frame} twice, got {len(got)} echoes ({end})"

    return probe


async def corrupt_frame_probe(port: int, add: AddToxic, already_open: bool) -> str | None:
    async with ws_client(port, add, already_open) as opened:
        sent = os.urandom(64)
        await opened.client.send(sent)
        async with asyncio.timeout(IO_TIMEOUT):
            got = await opened.client.recv()
    flipped = [i for i, (a, b) in enumerate(zip(sent, got, strict=True)) if a != b]
    if flipped == [0] and got[0] == sent[0] ^ 0xFF:
        return None
    return f"expected byte 0 of the echo XORed with 0xFF and no other change, bytes changed: {flipped}"


@dataclass(frozen=True)
class EffectCase:
    """One toxic definition, the upstream it needs, and how its effect is measured."""

    id: str
    spec: dict[str, Any]
    upstream: str  # "ws" (websockets echo) or "tcp" (raw echo that closes when the client does)
    probe: Callable[[int, AddToxic, bool], Awaitable[str | None]]

    @property
    def type(self) -> str:
        return str(self.spec["type"])


CASES = [
    EffectCase("latency", {"type": "latency", "stream": "upstream", "attributes": {"latency": 300}},
               "ws", latency_probe(300)),
    # The request exactly: 100 KB/s downstream; 100 KB take 1 s.
    EffectCase("bandwidth", {"type": "bandwidth", "stream": "downstream", "attributes": {"rate": 100}},
               "ws", bandwidth_probe(100, 100_000)),
    EffectCase("bandwidth-up", {"type": "bandwidth", "stream": "upstream", "attributes": {"rate": 200}},
               "ws", bandwidth_probe(200, 100_000)),
    EffectCase("slicer", {"type": "slicer", "attributes": {"average_size": 100, "size_variation": 20,
                                                           "delay": 1000}}, "tcp", slicer_probe),
    EffectCase("timeout", {"type": "timeout", "attributes": {"timeout": 500}}, "tcp", timeout_probe(500)),
    EffectCase("blackhole", {"type": "timeout", "attributes": {"timeout": 0}}, "tcp", blackhole_probe),
    EffectCase("reset_peer", {"type": "reset_peer", "attributes": {"timeout": 300}}, "tcp", reset_peer_probe(300)),
    EffectCase("slow_close", {"type": "slow_close", "attributes": {"delay": 500}}, "tcp", slow_close_probe(500)),
    EffectCase("limit_data", {"type": "limit_data", "attributes": {"bytes": 1000}}, "tcp", limit_data_probe(1000)),
    EffectCase("drop_pongs", {"type": "drop_pongs"}, "ws", drop_pongs_probe),
    EffectCase("cut_at_frame", {"type": "cut_at_frame", "attributes": {"frame": 3}}, "ws", cut_at_frame_probe(3)),
    EffectCase("duplicate_frame", {"type": "duplicate_frame", "attributes": {"frame": 2}},
               "ws", duplicate_frame_probe(2)),
    EffectCase("corrupt_frame", {"type": "corrupt_frame", "attributes": {"frame": 1, "offset": 0, "xor": 255}},
               "ws", corrupt_frame_probe),
]
