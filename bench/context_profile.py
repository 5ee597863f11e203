"""Where the time of a history retrieval and a reconnect goes, step by step, on both sides.

``bench/context.py`` gives the figures; this gives their breakdown. It builds the same
conversation (1,000 user messages, 2,000 history entries) on a reference server that times
itself, then reconnects ``--cycles`` times and reports:

- per step on the client (open, auth, resume, history), beside a bare ``websockets`` client
  speaking the same protocol to the same server: the difference is the library's client;
- the server's time per message type (from reading the message to having sent the reply;
  a big reply's send also waits for the client to read, so its CPU time is given too),
  measured inside the server process (it runs this file with ``--serve``, which wraps the
  router's ``dispatch`` with a clock);
- garbage collections on both sides during the cycles (count and pause by generation);
- steps timed in this process on the same data: ``json.loads`` of the reply,
  ``Context.from_message``, the digest check (expected context, first difference, digest),
  and the loop hop (an empty coroutine through ``LoopThread.run`` from another thread).

    python bench/context_profile.py [--messages N] [--cycles N]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

from common import emit, table

#: The server (``--serve``) writes its timings here (environment variable) when it stops.
TIMINGS_ENV = "CONTEXT_PROFILE_TIMINGS"
TIMEOUT = 30.0


class GcClock:
    """Every garbage collection in this process: (monotonic start, generation, ms)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, int, float]] = []
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.monotonic()
        else:
            self.pauses.append((self._started, info["generation"], (time.monotonic() - self._started) * 1000))


def serve() -> None:
    """The reference server with each dispatched message timed; timings written on exit."""
    import atexit

    from wsresilience.refserver import __main__ as refserver_main
    from wsresilience.refserver import router

    times: dict[str, list[float]] = {}
    clock = GcClock()
    dispatch = router.Router.dispatch

    async def timed(self: router.Router, client: Any, raw: str | bytes) -> None:
        try:
            kind = str(json.loads(raw).get("type"))
        except (AttributeError, TypeError, ValueError):
            kind = "other"
        started, cpu = time.monotonic(), time.thread_time()
        await dispatch(self, client, raw)
        times.setdefault(kind, []).append((time.monotonic() - started) * 1000)
        times.setdefault(f"{kind} (CPU)", []).append((time.thread_time() - cpu) * 1000)

    router.Router.dispatch = timed  # type: ignore[method-assign]
    atexit.register(lambda: Path(os.environ[TIMINGS_ENV]).write_text(json.dumps({"times": times, "gc": clock.pauses})))
    sys.argv = ["refserver", *sys.argv[2:]]
    refserver_main.main(sys.argv[1:])


class TimedServer:
    """This file run with ``--serve``: the reference server, timing itself; ``url`` once it listens."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.popen = subprocess.Popen(  # noqa: S603
            [sys.executable, str(Path(__file__).resolve()), "--serve", *args],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        )
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            match = re.search(r"listening on (wss?://\S+)", line)
            if match:
                self.url = match.group(1)
                return
        raise SystemExit(f"the timed reference server exited with code {self.popen.wait()} before listening")

    def stop(self) -> None:
        """SIGTERM (the server writes its timings as it exits), then wait."""
        self.popen.terminate()
        self.popen.wait(15)


def stats(values: list[float]) -> tuple[float, float]:
    """(p50, p95) of ``values``, NaN for none."""
    from wsresilience.core.stats import percentile

    return percentile(values, 50), percentile(values, 95)


def gc_summary(pauses: list[tuple[float, int, float]], start: float, end: float) -> dict[str, float]:
    """Collections between ``start`` and ``end``: count and total and longest pause per generation."""
    out: dict[str, float] = {}
    for generation in (0, 1, 2):
        ms = [p for t, g, p in pauses if g == generation and start <= t <= end]
        out[f"gen{generation}_count"] = len(ms)
        out[f"gen{generation}_total_ms"] = round(sum(ms), 2)
        out[f"gen{generation}_max_ms"] = round(max(ms, default=0.0), 2)
    return out


async def profile(args: argparse.Namespace, clock: GcClock) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    from wsresilience.core.conversations.session import SessionConversation
    from wsresilience.core.masking import Credential
    from wsresilience.refserver.auth import SECRET_ENV, issue_token

    secret = secrets.token_urlsafe(32)
    data_dir = tempfile.mkdtemp(prefix="bench-context-profile-")
    timings = Path(data_dir) / "timings.json"
    server_args = ["--port", "0", "--data-dir", data_dir, "--session-ttl", "3600"]
    process = TimedServer(server_args, {SECRET_ENV: secret, TIMINGS_ENV: str(timings)})
    steps: dict[str, list[float]] = {k: [] for k in ("open", "auth", "resume", "history")}
    bare: dict[str, list[float]] = {k: [] for k in ("open", "auth", "resume", "history")}
    try:
        user = f"bench-{secrets.token_hex(4)}"
        token = issue_token(secret, user)
        conv = SessionConversation("bench", process.url, Credential(user, token))
        await conv.open_session(TIMEOUT)
        for i in range(args.messages):
            text = f"remember fact {i}" if i % 10 == 0 else f"message {i}: the quick brown fox jumps over the lazy dog"
            await conv.say(text, TIMEOUT)
        reply = await conv.request(conv.conn, {"type": "history"}, TIMEOUT)  # type: ignore[arg-type]
        raw_history = json.dumps(reply, separators=(",", ":"))
        start = time.monotonic()
        for _ in range(args.cycles):
            await conv.disconnect()
            t0 = time.monotonic()
            conn = await conv.open_raw(TIMEOUT)
            t1 = time.monotonic()
            await conv.request(conn, {"type": "auth", "token": token}, TIMEOUT, conv.credential)
            conv.conn = conn
            t2 = time.monotonic()
            await conv.resume(TIMEOUT)
            t3 = time.monotonic()
            await conv.fetch_context(TIMEOUT)
            t4 = time.monotonic()
            for name, a, b in (("open", t0, t1), ("auth", t1, t2), ("resume", t2, t3), ("history", t3, t4)):
                steps[name].append((b - a) * 1000)
        end = time.monotonic()
        await conv.disconnect()
        for _ in range(args.cycles):
            t0 = time.monotonic()
            async with connect(process.url, compression=None, max_size=None) as ws:
                t1 = time.monotonic()
                await ws.send(json.dumps({"type": "auth", "token": token}))
                json.loads(await ws.recv())
                t2 = time.monotonic()
                await ws.send(json.dumps({"type": "session-resume", "session": conv.session}))
                json.loads(await ws.recv())
                t3 = time.monotonic()
                await ws.send('{"type":"history"}')
                json.loads(await ws.recv())
                t4 = time.monotonic()
            for name, a, b in (("open", t0, t1), ("auth", t1, t2), ("resume", t2, t3), ("history", t3, t4)):
                bare[name].append((b - a) * 1000)
    finally:
        process.stop()
    server = json.loads(timings.read_text()) if timings.exists() else {"times": {}, "gc": []}
    return {"conv": conv, "raw": raw_history, "steps": steps, "bare": bare, "server": server,
            "client_gc": gc_summary(clock.pauses, start, end),
            "server_gc": gc_summary([tuple(p) for p in server["gc"]], start, end)}  # type: ignore[misc]


def in_process(conv: Any, raw: str) -> dict[str, float]:
    """Client steps on the same data, timed here (best of 5 x 20, in ms), and the loop hop."""
    from wsresilience.core.conversations.transcript import Context, context_difference
    from wsresilience.core.runtime.loop import LoopThread

    message = json.loads(raw)
    actual = Context.from_message(message)
    digest = str(message.get("digest", ""))

    def best(fn: Any) -> float:
        return min(timeit.repeat(fn, number=20, repeat=5)) / 20 * 1000

    async def nothing() -> None:
        """An empty coroutine."""

    loop = LoopThread("bench-profile-loop")
    loop.start()
    try:
        hops = []
        for _ in range(200):
            started = time.monotonic()
            loop.run(nothing(), TIMEOUT, "nothing")
            hops.append((time.monotonic() - started) * 1000)
    finally:
        loop.stop()
    return {
        "json_loads_ms": best(lambda: json.loads(raw)),
        "from_message_ms": best(lambda: Context.from_message(message)),
        "digest_check_ms": best(lambda: context_difference(conv.expected.context(), actual, digest)),
        "loop_hop_ms_p50": stats(hops)[0],
    }


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        serve()
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000, help="user messages (default 1000)")
    parser.add_argument("--cycles", type=int, default=100, help="reconnect cycles (default 100)")
    args = parser.parse_args()
    clock = GcClock()
    result = asyncio.run(profile(args, clock))
    local = in_process(result["conv"], result["raw"])
    rows: list[tuple[object, ...]] = [("client step (ms)", "library p50", "p95", "bare p50", "p95")]
    figures: dict[str, Any] = {}
    for name in ("open", "auth", "resume", "history"):
        lib, raw = stats(result["steps"][name]), stats(result["bare"][name])
        rows.append((name, f"{lib[0]:.2f}", f"{lib[1]:.2f}", f"{raw[0]:.2f}", f"{raw[1]:.2f}"))
        figures[f"client_{name}_ms_p50"], figures[f"bare_{name}_ms_p50"] = round(lib[0], 3), round(raw[0], 3)
    print(f"{args.messages} user messages, {len(result['conv'].expected.entries)} history entries, "
          f"{len(result['raw'].encode()) / 1024:.0f} KiB, {args.cycles} cycles; cpus {os.cpu_count()}")
    print(table(rows, (18, 12, 8, 10, 8)))
    rows = [("server, per message (ms)", "p50", "p95", "count")]
    for kind, values in sorted(result["server"]["times"].items()):
        p50, p95 = stats(values)
        rows.append((kind, f"{p50:.3f}", f"{p95:.3f}", len(values)))
        figures[f"server_{kind.replace(' (CPU)', '_cpu')}_ms_p50"] = round(p50, 3)
    print(table(rows, (26, 8, 8, 8)))
    for side in ("client_gc", "server_gc"):
        g = result[side]
        print(f"{side.replace('_', ' ')} during the cycles: " + ", ".join(
            f"gen{n} {g[f'gen{n}_count']:.0f} x (total {g[f'gen{n}_total_ms']:.1f} ms, max {g[f'gen{n}_max_ms']:.1f})"
            for n in (0, 1, 2)))
        figures.update({f"{side}_{k}": v for k, v in g.items()})
    print("in this process: " + ", ".join(f"{k} {v:.3f}" for k, v in local.items()))
    figures.update({k: round(v, 3) for k, v in local.items()})
    emit(figures)


if __name__ == "__main__":
    main()
