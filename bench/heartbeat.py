"""Zombie detection at scale: the Heartbeat library versus bare ``websockets``, same run.

What is measured
================

N client connections are held against the reference server (its own process, started
with :class:`~wsresilience.core.servers.process.ServerProcess`, server keepalive ``interval`` /
``timeout``). A fraction of them then go *silent*; the server must notice that their
pongs stopped and terminate them, and must leave the healthy ones alone. The same
N are held twice, each time in a fresh client process against a fresh server with the
same settings:

``library``
    Through the :class:`~wsresilience.Heartbeat.Heartbeat` keyword library, called as Robot
    calls it (keywords from the main thread, the core's loop in its daemon thread).
    Silent connections alternate between ``no-pong`` (keeps reading, drops its pongs:
    it sees the 1011 close frame) and ``frozen`` (stops reading: its watcher sees the
    close frame waiting unread or the TCP state turn CLOSE_WAIT).
``bare``
    Plain ``websockets`` clients, each with one task reading it (``async for``), as an
    application holding a connection would. A silent bare client is frozen
    (``transport.pause_reading()``), since websockets cannot drop pongs without the
    library's wrapper. A paused bare client sees nothing by itself, so the bench watches
    its socket from the kernel side: one ``epoll`` with ``EPOLLRDHUP`` on every silent
    socket, which fires when the server's FIN (or a reset) arrives. That is the earliest
    any client can know, so the bare figures are the floor the library is compared with.

Figures, per side:

detected
    Silent connections seen terminated by the end of the observation window.
false positives
    Healthy connections terminated during the window (by default
    ``interval + 2 * (interval + timeout) + 1 s`` from the first silence; ``--window``).
detection error (p50, p99, max)
    ``(seen terminated - went silent) - (interval + timeout)``, in ms. The bound
    ``interval + timeout`` is the latest a correct server may terminate: the first ping
    the client leaves unanswered goes out somewhere in the next ``interval`` and the
    server gives up ``timeout`` after it. So a correct, prompt server and client give
    errors spread over ``(-interval, 0]`` plus delivery and scheduling latency: p50 near
    ``-interval / 2`` is expected, and the goal ``p99 <= 100 ms`` bounds the *lateness
    past the bound* at the tail, which is where a slow server or a swamped client loop
    shows. Negative values are not "early detection": they are the keepalive phase.

    Silence is staggered: the silent connections go silent at times evenly spread over
    one ping interval, in a shuffled (seeded) order. Connections open within a second or
    so, so their keepalive phases are bunched; silencing them all at one instant, or in
    open order, would sample only a slice of ``(-interval, 0]`` and could hide lateness
    behind a lucky phase. Shuffled over an interval, the phase is sampled evenly and the
    tail sits near 0 plus latency.
memory per connection
    Resident set size of the client process after opening the N connections, minus
    before (taken after a warm-up connection opened and closed, and a ``gc.collect()``),
    divided by N, in KiB. No collection is forced once the N are open: at 10,000
    connections a full collection holds the GIL for about a second, which is itself
    enough to miss pongs. Each side runs in its own child process so one side's heap
    does not pollute the other's RSS. Also reported: the same delta once the silent
    ones were switched (``after_silence``) and at the end of the window (``end``), which
    includes what the library records per ping (routine ping/pong events in a bounded
    ring of 64 per connection, so it stops growing).
cpu, loop lag, GC pauses
    Client and server CPU seconds spent during the observation window; the client
    loop's worst lateness (a probe that asks to wake every 10 ms) and longest garbage
    collection from the first open to the end of the window. A pong answered late by
    the client is a false positive on the server; these say why.
false positives before the window
    Healthy connections already terminated before anything went silent (counted in
    false positives too).

Both sides connect with ``compression=None`` (the library's own default: the
permessage-deflate context costs tens of KiB per connection and is not what a heartbeat
test exercises) and without client keepalive (``ping_interval=None``).

The server keepalive is 1 s / 1 s in both modes (issue 14's goal; ``--interval`` and
``--timeout`` change it). At 10,000 connections in one CPython process an automatic full
(generation 2) garbage collection pauses a client for 0.4 to 2 s (measured, on both
sides), longer than a 1 s ping timeout; until the library managed it, full mode ran at
5 s / 5 s for that reason. The library keeps the collector off its held connections
itself (its ``gc_freeze_at`` import argument, default 1000; ``--library-gc-freeze-at``
here, 0 switches it off); the bare side does nothing about it, as a plain websockets
application would not, unless ``--gc-freeze`` (``gc.freeze()`` after each batch of opens,
both sides). The reference server holds the same 10,000 and pauses the same way, so it
runs with its ``--gc-freeze-every 1000`` (``--server-gc-freeze-every``, 0 to switch off).
On the shared 2-core machine a heavily loaded run can still lose healthy connections on
either side to CPU starvation (see bench/README.md).

Connections open in batches (``--batch``, default 200 concurrent connects), so the
server's accept queue (``--backlog``, default 1024, passed to the reference server)
does not overflow; the kernel's listen-queue drop counters
(``ListenOverflows``/``ListenDrops`` from ``/proc/net/netstat``) are reported for each
side to show it did not.

Usage::

    python bench/heartbeat.py --quick     # 1,000 connections, 10% silent, about 20 s
    python bench/heartbeat.py             # 10,000 connections, 10% silent, 1 s / 1 s, about 90 s

The human-readable table goes first; the last line is one JSON object. Goals: every
silent connection detected, no healthy one lost, ``detection_error_ms_p99 <= 100``,
``mem_ratio`` (library / bare memory per connection) ``<= 1.2`` and client CPU in the
window ``<= 1.2`` times bare's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import math
import random
import resource
import select
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import psutil

from common import emit, last_json, percentile, reference_server, table

T = TypeVar("T")

#: How long one connection may take to open before the run fails.
OPEN_TIMEOUT = 30.0
#: How often the loop-lag probe asks to wake.
LAG_TICK = 0.01
#: Descriptors a process needs on top of one per connection (and one per frozen duplicate).
FD_HEADROOM = 256


# -- shared helpers ------------------------------------------------------------------------


def raise_fd_limit(needed: int) -> int:
    """Raise the soft RLIMIT_NOFILE to at least ``needed`` (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft < needed:
        raise SystemExit(f"need {needed} file descriptors, the hard limit is {hard}")
    return soft


def rss(collect: bool = False) -> int:
    """Resident set size of this process, in bytes (after a full collection if asked).

    Collect only before the connections open: a full collection of a heap holding 10,000
    connections holds the GIL for about a second (measured: 0.55 s at 5,000 library
    connections), long enough to delay pongs past a 1 s server timeout.
    """
    if collect:
        gc.collect()
    return psutil.Process().memory_info().rss


class Pauses:
    """The longest garbage-collection pause and event-loop lag while the N are held.

    GC pauses come from ``gc.callbacks``; loop lag from a task on the loop that asks to
    wake every :data:`LAG_TICK` and records how late it woke. Both explain a late pong.
    """

    def __init__(self) -> None:
        self.gc_max_ms = 0.0
        self.lag_max_ms = 0.0
        self.lags_ms: list[float] = []
        self._gc_started = 0.0
        self._armed = False

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._armed:
            self.gc_max_ms = max(self.gc_max_ms, (time.perf_counter() - self._gc_started) * 1000)

    def arm(self) -> None:
        """Start recording (call on the loop's thread)."""
        self._armed = True
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.get_running_loop().create_task(self._probe())

    async def _probe(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(LAG_TICK)
            self.lags_ms.append((time.perf_counter() - asked - LAG_TICK) * 1000)

    def disarm(self) -> None:
        """Stop recording (call on the loop's thread)."""
        self._armed = False
        gc.callbacks.remove(self._on_gc)
        self._task.cancel()
        self.lag_max_ms = max(self.lags_ms, default=0.0)

    def figures(self) -> dict[str, float]:
        """The figures, rounded, for the report."""
        return {
            "gc_pause_ms_max": round(self.gc_max_ms, 1),
            "loop_lag_ms_p99": round(percentile(self.lags_ms, 99), 1) if self.lags_ms else 0.0,
            "loop_lag_ms_max": round(self.lag_max_ms, 1),
        }


def silent_indices(n: int, fraction: float) -> list[int]:
    """``floor(n * fraction)`` indices spread evenly over ``range(n)``."""
    return [i for i in range(n) if math.floor((i + 1) * fraction) > math.floor(i * fraction)]


def silence_offsets(count: int, spread: float, seed: int = 2) -> list[float]:
    """``count`` offsets evenly spaced over ``[0, spread)``, in a shuffled (seeded) order.

    Shuffled because connections open at a steady rate: silencing them in open order at
    a similar rate keeps the silence-to-ping phase nearly constant and samples one phase.
    """
    offsets = [k * spread / max(1, count) for k in range(count)]
    random.Random(seed).shuffle(offsets)
    return offsets


def listen_drops() -> int:
    """ListenOverflows + ListenDrops from /proc/net/netstat (0 where unavailable)."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], map(int, values.split()[1:])))
            return table.get("ListenOverflows", 0) + table.get("ListenDrops", 0)
    return 0


def server_terminations(http_url: str) -> int | None:
    """The server's own count of keepalive terminations, from its /metrics."""
    try:
        with urllib.request.urlopen(http_url + "metrics", timeout=5) as response:  # noqa: S310
            text = response.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("ws_keepalive_terminations_total "):
            return int(float(line.split()[1]))
    return None


def cpu_seconds(process: psutil.Process) -> float:
    """User + system CPU seconds of ``process`` so far."""
    times = process.cpu_times()
    return times.user + times.system


def summarise(
    *,
    errors_ms: Sequence[float],
    silent: int,
    false_positives: int,
    n: int,
    rss_before: int,
    rss_open: int,
    rss_silent: int,
    rss_end: int,
    open_s: float,
    cpu_client: float,
    cpu_server: float,
    server_terms: int | None,
) -> dict[str, Any]:
    """The figures one side reports to the parent."""
    kib = 1024 * n

    def stat(q: float) -> float | None:
        return round(percentile(errors_ms, q), 1) if errors_ms else None

    return {
        "connections": n,
        "silent": silent,
        "detected": len(errors_ms),
        "false_positives": false_positives,
        "detection_error_ms_p50": stat(50),
        "detection_error_ms_p99": stat(99),
        "detection_error_ms_min": round(min(errors_ms), 1) if errors_ms else None,
        "detection_error_ms_max": round(max(errors_ms), 1) if errors_ms else None,
        "rss_per_conn_kib": round((rss_open - rss_before) / kib, 2),
        "rss_per_conn_kib_after_silence": round((rss_silent - rss_before) / kib, 2),
        "rss_per_conn_kib_end": round((rss_end - rss_before) / kib, 2),
        "open_s": round(open_s, 2),
        "client_cpu_s_window": round(cpu_client, 2),
        "server_cpu_s_window": round(cpu_server, 2),
        "server_keepalive_terminations": server_terms,
    }


# -- library side -----------------------------------------------------------------------------


def hold_library(args: argparse.Namespace) -> dict[str, Any]:
    """Hold N connections through the Heartbeat library; silence some; observe the window."""
    from wsresilience.core.client.connection import Behaviour
    from wsresilience.Heartbeat import Heartbeat

    bound = args.interval + args.timeout
    me, server = psutil.Process(), psutil.Process(args.server_pid)
    hb = Heartbeat(timeout=timedelta(seconds=OPEN_TIMEOUT), gc_freeze_at=args.library_gc_freeze_at)
    try:
        hb.close_heartbeat_connections(hb.open_heartbeat_connections(args.url, 1, prefix="warm"))
        before = rss(collect=True)
        pauses = Pauses()
        hb.ctx.call(pauses.arm)
        started = time.monotonic()
        names: list[str] = []
        for batch, first in enumerate(range(0, args.connections, args.batch)):
            count = min(args.batch, args.connections - first)
            names += hb.open_heartbeat_connections(args.url, count, prefix=f"b{batch}")
            if args.gc_freeze:
                gc.freeze()
        open_s = time.monotonic() - started
        opened = rss()

        silent = [names[i] for i in silent_indices(len(names), args.silent_fraction)]
        no_pong, frozen = silent[0::2], silent[1::2]
        offsets = silence_offsets(len(silent), args.interval)

        def stagger() -> None:
            # What Set Connection Behaviour does, one connection at a time, spread evenly
            # over one ping interval (see "silence is staggered" in the module docstring).
            loop = asyncio.get_running_loop()
            now = loop.time()
            for k, name in enumerate(silent):
                behaviour = Behaviour.NO_PONG if k % 2 == 0 else Behaviour.FROZEN
                loop.call_at(now + offsets[k], hb.ctx.connections.get(name).set_behaviour, behaviour)

        cpu0 = (cpu_seconds(me), cpu_seconds(server))
        window_start = time.monotonic()
        hb.ctx.call(stagger)
        time.sleep(args.interval)  # the observation window itself, first part: all go silent
        silenced = rss()
        time.sleep(max(0.0, window_start + args.window - time.monotonic()))  # and the rest
        cpu1 = (cpu_seconds(me), cpu_seconds(server))
        hb.ctx.call(pauses.disarm)
        ended = rss()

        def snapshot() -> list[tuple[str, float | None, float | None]]:
            return [(c.name, c.silent_since, c.terminated_at) for c in hb.ctx.connections]

        seen = hb.ctx.call(snapshot)
        terms = server_terminations(args.http_url)
    finally:
        hb.ctx.close()  # closes every connection (frozen and terminated ones aborted) and the loop

    silent_set = set(silent)
    errors = [
        ((t - s) - bound) * 1000
        for name, s, t in seen
        if name in silent_set and s is not None and t is not None
    ]
    false_pos = sum(1 for name, _, t in seen if name not in silent_set and t is not None)
    early = sum(1 for name, _, t in seen
                if name not in silent_set and t is not None and t < window_start)
    result = summarise(
        errors_ms=errors, silent=len(silent), false_positives=false_pos, n=len(names),
        rss_before=before, rss_open=opened, rss_silent=silenced, rss_end=ended, open_s=open_s,
        cpu_client=cpu1[0] - cpu0[0], cpu_server=cpu1[1] - cpu0[1], server_terms=terms,
    )
    result.update(pauses.figures())
    result["false_positives_before_window"] = early
    for label, group in (("no_pong", set(no_pong)), ("frozen", set(frozen))):
        errs = [((t - s) - bound) * 1000 for name, s, t in seen
                if name in group and s is not None and t is not None]
        result[f"{label}_silent"] = len(group)
        result[f"{label}_detected"] = len(errs)
        result[f"{label}_detection_error_ms_p99"] = round(percentile(errs, 99), 1) if errs else None
    return result


# -- bare websockets side --------------------------------------------------------------------


class HangupWatcher:
    """Sees the server give up on paused sockets: one epoll, ``EPOLLRDHUP`` per socket.

    The epoll's own descriptor is watched by the asyncio loop, so nothing polls: the
    kernel wakes us when a FIN or a reset arrives on any watched socket.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._epoll = select.epoll()
        self._keys: dict[int, int] = {}
        self.seen: dict[int, float] = {}
        loop.add_reader(self._epoll.fileno(), self._ready)

    def watch(self, fd: int, key: int) -> None:
        """Report ``key`` in :attr:`seen` when the peer of ``fd`` shuts down or resets."""
        self._keys[fd] = key
        self._epoll.register(fd, select.EPOLLRDHUP)

    def _ready(self) -> None:
        now = time.monotonic()
        for fd, _ in self._epoll.poll(0):
            key = self._keys.pop(fd, None)
            with contextlib.suppress(OSError):
                self._epoll.unregister(fd)
            if key is not None:
                self.seen.setdefault(key, now)

    def close(self) -> None:
        """Stop watching (before the sockets are closed)."""
        self._loop.remove_reader(self._epoll.fileno())
        self._epoll.close()


async def in_batches(factories: Sequence[Callable[[], Awaitable[T]]], size: int) -> list[T]:
    """Await the factories' coroutines ``size`` at a time, in order; the first error raises."""
    results: list[T] = []
    for first in range(0, len(factories), size):
        results += await asyncio.gather(*(f() for f in factories[first:first + size]))
    return results


async def hold_bare(args: argparse.Namespace) -> dict[str, Any]:
    """Hold N bare websockets connections; freeze some; observe the window."""
    from websockets.asyncio.client import ClientConnection, connect
    from websockets.exceptions import ConnectionClosed

    bound = args.interval + args.timeout
    me, server = psutil.Process(), psutil.Process(args.server_pid)
    loop = asyncio.get_running_loop()
    closed_at: dict[int, float] = {}
    readers: set[asyncio.Task[None]] = set()

    async def open_one() -> ClientConnection:
        return await connect(args.url, ping_interval=None, compression=None, close_timeout=2,
                             open_timeout=OPEN_TIMEOUT, proxy=None)

    async def read(i: int, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for _ in ws:
                pass
        closed_at.setdefault(i, time.monotonic())

    warm = await open_one()
    await warm.close()
    before = rss(collect=True)
    pauses = Pauses()
    pauses.arm()
    started = time.monotonic()
    conns: list[ClientConnection] = []
    for first in range(0, args.connections, args.batch):
        count = min(args.batch, args.connections - first)
        batch = await in_batches([open_one] * count, count)
        for ws in batch:
            task = loop.create_task(read(len(conns), ws))
            readers.add(task)
            conns.append(ws)
        if args.gc_freeze:
            gc.freeze()
    open_s = time.monotonic() - started
    opened = rss()

    silent = silent_indices(len(conns), args.silent_fraction)
    watcher = HangupWatcher(loop)
    silent_since: dict[int, float] = {}
    try:
        offsets = silence_offsets(len(silent), args.interval)

        def freeze(i: int) -> None:
            if conns[i].transport.is_closing():
                return
            conns[i].transport.pause_reading()
            silent_since[i] = time.monotonic()
            watcher.watch(conns[i].transport.get_extra_info("socket").fileno(), i)

        cpu0 = (cpu_seconds(me), cpu_seconds(server))
        window_start = loop.time()
        for k, i in enumerate(silent):
            loop.call_at(window_start + offsets[k], freeze, i)
        await asyncio.sleep(args.interval)  # the observation window itself, first part
        silenced = rss()
        await asyncio.sleep(max(0.0, window_start + args.window - loop.time()))  # and the rest
        cpu1 = (cpu_seconds(me), cpu_seconds(server))
        pauses.disarm()
        ended = rss()
        seen = dict(watcher.seen)
        healthy_closed = {i: t for i, t in closed_at.items() if i not in silent_since}
        terms = await asyncio.to_thread(server_terminations, args.http_url)
    finally:
        watcher.close()
        for i, ws in enumerate(conns):
            if i in silent_since or ws.transport.is_closing():
                ws.transport.abort()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)

    errors = [((seen[i] - silent_since[i]) - bound) * 1000 for i in silent_since if i in seen]
    result = summarise(
        errors_ms=errors, silent=len(silent), false_positives=len(healthy_closed), n=len(conns),
        rss_before=before, rss_open=opened, rss_silent=silenced, rss_end=ended, open_s=open_s,
        cpu_client=cpu1[0] - cpu0[0], cpu_server=cpu1[1] - cpu0[1], server_terms=terms,
    )
    result.update(pauses.figures())
    result["false_positives_before_window"] = sum(
        1 for t in healthy_closed.values() if t < window_start)
    return result


# -- parent: servers, children, report ------------------------------------------------------------


def run_side(role: str, args: argparse.Namespace) -> dict[str, Any]:
    """Start a fresh server, hold the N connections in a child process, stop the server."""
    drops = listen_drops()
    with reference_server([
        "--port", "0",
        "--ping-interval", str(args.interval),
        "--ping-timeout", str(args.timeout),
        "--close-timeout", str(args.close_timeout),
        "--backlog", str(args.backlog),
        "--gc-freeze-every", str(args.server_gc_freeze_every),
    ]) as server:
        child = [
            sys.executable, str(Path(__file__).resolve()), "--role", role,
            "--url", server.url, "--http-url", server.http_url, "--server-pid", str(server.pid),
            "--connections", str(args.connections), "--silent-fraction", str(args.silent_fraction),
            "--interval", str(args.interval), "--timeout", str(args.timeout),
            "--window", str(args.window), "--batch", str(args.batch),
            *(["--gc-freeze"] if args.gc_freeze else []),
            "--library-gc-freeze-at", str(args.library_gc_freeze_at),
        ]
        budget = args.window + args.connections / 50 + 120
        done = subprocess.run(child, capture_output=True, text=True, timeout=budget, check=False)  # noqa: S603
        if done.returncode != 0:
            raise SystemExit(f"{role} side failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        result: dict[str, Any] = last_json(done.stdout)
    result["listen_drops"] = listen_drops() - drops
    return result


#: The table's rows: label, key in each side's figures.
ROWS: list[tuple[str, str]] = [
    ("connections", "connections"),
    ("silent", "silent"),
    ("detected", "detected"),
    ("false positives", "false_positives"),
    ("  of which before the window", "false_positives_before_window"),
    ("detection error p50 (ms)", "detection_error_ms_p50"),
    ("detection error p99 (ms)", "detection_error_ms_p99"),
    ("detection error max (ms)", "detection_error_ms_max"),
    ("memory/conn after open (KiB)", "rss_per_conn_kib"),
    ("memory/conn after silence (KiB)", "rss_per_conn_kib_after_silence"),
    ("memory/conn at window end (KiB)", "rss_per_conn_kib_end"),
    ("open time (s)", "open_s"),
    ("client CPU in window (s)", "client_cpu_s_window"),
    ("client loop lag p99, held (ms)", "loop_lag_ms_p99"),
    ("client loop lag max, held (ms)", "loop_lag_ms_max"),
    ("client GC pause max, held (ms)", "gc_pause_ms_max"),
    ("server CPU in window (s)", "server_cpu_s_window"),
    ("server keepalive terminations", "server_keepalive_terminations"),
    ("listen queue drops", "listen_drops"),
]


def side_by_side(lib: dict[str, Any], bare: dict[str, Any]) -> str:
    """The side-by-side table, then the library's figures per kind of silence."""
    rows = [("", "library", "bare")] + [(label, lib.get(key), bare.get(key)) for label, key in ROWS]
    lines = [table(rows, (None, 12, 12), gaps="  ")]
    for kind in ("no_pong", "frozen"):
        lines.append(
            f"  library {kind.replace('_', '-')}: {lib[f'{kind}_detected']}/{lib[f'{kind}_silent']} "
            f"detected, error p99 {lib[f'{kind}_detection_error_ms_p99']} ms"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Entry point: the parent by default, one side with ``--role``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 connections (default 10,000)")
    parser.add_argument("--connections", type=int, default=None)
    parser.add_argument("--silent-fraction", type=float, default=0.1)
    parser.add_argument("--interval", type=float, default=None,
                        help="server ping interval (s); default 1")
    parser.add_argument("--timeout", type=float, default=None,
                        help="server ping timeout (s); default 1")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="gc.freeze() after each batch of opens, on both sides")
    parser.add_argument("--library-gc-freeze-at", type=int, default=1000,
                        help="the library's gc_freeze_at import argument (0: off; default 1000)")
    parser.add_argument("--server-gc-freeze-every", type=int, default=1000,
                        help="the reference server's --gc-freeze-every (0: off; default 1000)")
    parser.add_argument("--close-timeout", type=float, default=2.0, help="server close timeout (s)")
    parser.add_argument("--window", type=float, default=None,
                        help="observation window from the first silence (s); "
                             "default interval + 2 * (interval + timeout) + 1")
    parser.add_argument("--batch", type=int, default=200, help="connections opened concurrently")
    parser.add_argument("--backlog", type=int, default=1024, help="the server's listen backlog")
    parser.add_argument("--role", choices=("library", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--http-url", help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.connections is None:
        args.connections = 1_000 if args.quick else 10_000
    if args.interval is None:
        args.interval = 1.0
    if args.timeout is None:
        args.timeout = 1.0
    if args.window is None:
        args.window = args.interval + 2 * (args.interval + args.timeout) + 1
    # One descriptor per connection, one more per frozen duplicate; the server and the
    # children inherit the raised limit.
    raise_fd_limit(args.connections + math.ceil(args.connections * args.silent_fraction) + FD_HEADROOM)

    if args.role == "library":
        emit(hold_library(args))
        return
    if args.role == "bare":
        emit(asyncio.run(hold_bare(args)))
        return

    mode = "quick" if args.quick else "full"
    print(f"heartbeat bench ({mode}): {args.connections} connections, "
          f"{args.silent_fraction:.0%} silent, server keepalive {args.interval} s / {args.timeout} s, "
          f"window {args.window} s, compression off{', gc.freeze()' if args.gc_freeze else ''}",
          file=sys.stderr, flush=True)
    started = time.monotonic()
    lib = run_side("library", args)
    bare = run_side("bare", args)
    duration = time.monotonic() - started
    print(side_by_side(lib, bare))
    ratio = (lib["rss_per_conn_kib"] / bare["rss_per_conn_kib"]
             if bare["rss_per_conn_kib"] > 0 else None)
    summary = {
        "mode": mode,
        "connections": lib["connections"],
        "silent": lib["silent"],
        "detected": lib["detected"],
        "false_positives": lib["false_positives"],
        "detection_error_ms_p50": lib["detection_error_ms_p50"],
        "detection_error_ms_p99": lib["detection_error_ms_p99"],
        "detection_error_ms_max": lib["detection_error_ms_max"],
        "rss_per_conn_kib": lib["rss_per_conn_kib"],
        "rss_per_conn_kib_end": lib["rss_per_conn_kib_end"],
        "bare_rss_per_conn_kib": bare["rss_per_conn_kib"],
        "bare_rss_per_conn_kib_end": bare["rss_per_conn_kib_end"],
        "mem_ratio": round(ratio, 2) if ratio is not None else None,
        "bare_silent": bare["silent"],
        "bare_detected": bare["detected"],
        "bare_false_positives": bare["false_positives"],
        "bare_detection_error_ms_p50": bare["detection_error_ms_p50"],
        "bare_detection_error_ms_p99": bare["detection_error_ms_p99"],
        "no_pong_detection_error_ms_p99": lib["no_pong_detection_error_ms_p99"],
        "frozen_detection_error_ms_p99": lib["frozen_detection_error_ms_p99"],
        "client_cpu_s_window": lib["client_cpu_s_window"],
        "bare_client_cpu_s_window": bare["client_cpu_s_window"],
        "loop_lag_ms_max": lib["loop_lag_ms_max"],
        "gc_pause_ms_max": lib["gc_pause_ms_max"],
        "bare_gc_pause_ms_max": bare["gc_pause_ms_max"],
        "bare_loop_lag_ms_max": bare["loop_lag_ms_max"],
        "listen_drops": lib["listen_drops"] + bare["listen_drops"],
        "interval_s": args.interval,
        "timeout_s": args.timeout,
        "window_s": args.window,
        "compression": None,
        "gc_freeze": args.gc_freeze,
        "library_gc_freeze_at": args.library_gc_freeze_at,
        "server_gc_freeze_every": args.server_gc_freeze_every,
        "duration_s": round(duration, 1),
    }
    emit(summary)


if __name__ == "__main__":
    main()
