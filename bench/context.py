"""Benchmark: history retrieval and context restoration for a long conversation.

Builds a conversation of 1,000 user messages (2,000 history entries) on a real reference
server process, then reconnects and retrieves the whole history repeatedly: retrieval time
(history request to parsed reply) and reconnect-to-restored time (connect, auth, resume and
history). Then the same retrievals the way a keyword makes them: from another thread (Robot's)
through the library's loop thread (``LoopThread.run``), beside the same retrievals timed on
the loop, and an empty coroutine's round trip (the loop hop alone). Then the same after
restarting the server process on the same port and data directory. Beside it, bare ``websockets`` in the same run: the same history bytes served by
a minimal server, so the difference is what sessions, SQLite and JSON cost.

    python bench/context.py [--quick] [--messages N] [--cycles N] [--restarts N]

Every context read back is compared with the client's record; a mismatch is counted and
reported. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import tempfile
import time

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from wsresilience.core.conversations.session import Refusal, SessionConversation
from wsresilience.core.conversations.transcript import first_difference
from wsresilience.core.masking import Credential
from wsresilience.core.runtime.loop import LoopThread
from wsresilience.core.stats import LatencyStats
from wsresilience.refserver.auth import SECRET_ENV, issue_token

from common import emit, start_server, table

TIMEOUT = 30.0
GOAL_P95_MS = 50.0


async def restore(conv: SessionConversation) -> tuple[float, int]:
    """Reconnect, resume and read the context; (ms to restored, mismatches 0/1)."""
    started = time.monotonic()
    await conv.connect(TIMEOUT)
    outcome = await conv.resume(TIMEOUT)
    if isinstance(outcome, Refusal):
        raise SystemExit(f"resume refused: {outcome.code} {outcome.message}")
    actual, digest = await conv.fetch_context(TIMEOUT)
    elapsed = (time.monotonic() - started) * 1000
    expected = conv.expected.context()
    wrong = first_difference(expected, actual) is not None or digest != expected.digest
    return elapsed, int(wrong)


async def reference_run(args: argparse.Namespace) -> dict[str, object]:
    secret = secrets.token_urlsafe(32)
    data_dir = tempfile.mkdtemp(prefix="bench-context-")
    server_args = ["--port", "0", "--data-dir", data_dir, "--session-ttl", "3600", "--ping-interval", "20"]
    process = start_server(server_args, env={SECRET_ENV: secret})
    url = process.url
    try:
        user = f"bench-{secrets.token_hex(4)}"
        conv = SessionConversation("bench", url, Credential(user, issue_token(secret, user)))
        await conv.connect(TIMEOUT)
        await conv.start_session(TIMEOUT)
        built = time.monotonic()
        for i in range(args.messages):
            text = f"remember fact {i}" if i % 10 == 0 else f"message {i}: the quick brown fox jumps over the lazy dog"
            await conv.say(text, TIMEOUT)
        build_s = time.monotonic() - built
        history_len = len(conv.expected.entries)
        payload = await conv.request(conv.conn, {"type": "history"}, TIMEOUT)  # type: ignore[arg-type]
        payload_text = json.dumps(payload, separators=(",", ":"))
        conv.retrieval_ms.clear()

        mismatches = 0
        restore_ms = []
        for _ in range(args.cycles):
            await conv.disconnect()
            ms, wrong = await restore(conv)
            restore_ms.append(ms)
            mismatches += wrong
        retrieval = LatencyStats.of(conv.retrieval_ms)
        await conv.disconnect()
        keyword = await asyncio.to_thread(keyword_path, conv, args.cycles)

        conv.retrieval_ms.clear()
        restart_ms, restart_restore_ms = [], []
        port = url.rsplit(":", 1)[1].split("/", 1)[0]
        restarted_args = list(server_args)
        restarted_args[1] = port
        for _ in range(args.restarts):
            await conv.disconnect()
            started = time.monotonic()
            process.stop()
            process = start_server(restarted_args, env={SECRET_ENV: secret})
            if process.url != url:
                raise SystemExit("the restarted server did not come back on the same URL")
            restart_ms.append((time.monotonic() - started) * 1000)
            ms, wrong = await restore(conv)
            restart_restore_ms.append(ms)
            mismatches += wrong
        after_restart = LatencyStats.of(conv.retrieval_ms)
        await conv.close()
    finally:
        process.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "history_len": history_len,
        "build_s": build_s,
        "payload": payload_text,
        "retrieval": retrieval,
        "restore": LatencyStats.of(restore_ms),
        "restart": LatencyStats.of(restart_ms),
        "restart_restore": LatencyStats.of(restart_restore_ms),
        "restart_retrieval": after_restart,
        "mismatches": mismatches,
        **keyword,
    }


async def nothing() -> None:
    """An empty coroutine: its round trip through the loop thread is the hop alone."""


def keyword_path(conv: SessionConversation, cycles: int) -> dict[str, LatencyStats]:
    """Robot's side: the same retrievals handed to a :class:`LoopThread` from this thread.

    Runs in a thread of its own (as Robot's thread), on a new connection that resumes
    ``conv``'s session (``conv`` must be disconnected). Returns the wall time of each
    ``LoopThread.run`` (``keyword_retrieval``), the same retrievals timed on the loop
    (``loop_retrieval``) and the round trip of an empty coroutine (``hop``).
    """
    other = SessionConversation(conv.name, conv.url, conv.credential)
    other.session, other.expected = conv.session, conv.expected
    lt = LoopThread("bench-keyword-loop")
    lt.start()
    hop, retrieval = [], []
    try:
        lt.run(other.connect(TIMEOUT), TIMEOUT, "connect and auth")
        if isinstance(lt.run(other.resume(TIMEOUT), TIMEOUT, "resume"), Refusal):
            raise SystemExit("resume refused on the keyword path")
        for _ in range(cycles):
            started = time.monotonic()
            lt.run(nothing(), TIMEOUT, "nothing")
            hop.append((time.monotonic() - started) * 1000)
            started = time.monotonic()
            lt.run(other.fetch_context(TIMEOUT), TIMEOUT, "the history")
            retrieval.append((time.monotonic() - started) * 1000)
        lt.run(other.close(), TIMEOUT, "close")
    finally:
        lt.stop()
    return {"hop": LatencyStats.of(hop), "keyword_retrieval": LatencyStats.of(retrieval),
            "loop_retrieval": LatencyStats.of(other.retrieval_ms)}


async def bare_run(payload: str, cycles: int) -> dict[str, LatencyStats]:
    """Bare websockets (no compression, as our client): the same history bytes on request, and
    reconnect + one round trip."""

    async def handler(ws) -> None:  # type: ignore[no-untyped-def]
        async for _ in ws:
            await ws.send(payload)

    retrieval, reconnect = [], []
    async with serve(handler, "127.0.0.1", 0, max_size=None, compression=None) as server:
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        for _ in range(cycles):
            started = time.monotonic()
            async with connect(url, max_size=None, compression=None) as ws:
                sent = time.monotonic()
                await ws.send('{"type":"history"}')
                json.loads(await ws.recv())
                done = time.monotonic()
            retrieval.append((done - sent) * 1000)
            reconnect.append((done - started) * 1000)
    return {"retrieval": LatencyStats.of(retrieval), "restore": LatencyStats.of(reconnect)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer messages, cycles and restarts")
    parser.add_argument("--messages", type=int, default=None, help="user messages (default 1000; quick 1000)")
    parser.add_argument("--cycles", type=int, default=None, help="reconnect cycles (default 100; quick 20)")
    parser.add_argument("--restarts", type=int, default=None, help="server restarts (default 10; quick 3)")
    args = parser.parse_args()
    args.messages = args.messages or 1000
    args.cycles = args.cycles or (20 if args.quick else 100)
    args.restarts = args.restarts or (3 if args.quick else 10)

    ref = asyncio.run(reference_run(args))
    bare = asyncio.run(bare_run(str(ref["payload"]), args.cycles))
    r, rr, rs, rsr = ref["retrieval"], ref["restore"], ref["restart_restore"], ref["restart_retrieval"]
    b, br = bare["retrieval"], bare["restore"]
    assert isinstance(r, LatencyStats) and isinstance(rr, LatencyStats) and isinstance(rs, LatencyStats)
    assert isinstance(rsr, LatencyStats) and isinstance(ref["restart"], LatencyStats)
    payload_bytes = len(str(ref["payload"]).encode())
    print(f"conversation: {args.messages} user messages, {ref['history_len']} history entries, "
          f"{payload_bytes / 1024:.0f} KiB of history JSON, built in {ref['build_s']:.1f} s; "
          f"{args.cycles} reconnect cycles, {args.restarts} server restarts; cpus {os.cpu_count()}")
    figures = [
        ("history retrieval", r, b),
        ("reconnect to restored (connect+auth+resume+history)", rr, br),
        ("history retrieval via LoopThread.run", ref["keyword_retrieval"], None),
        ("  the same retrievals timed on the loop", ref["loop_retrieval"], None),
        ("  loop hop (an empty coroutine)", ref["hop"], None),
        ("history retrieval, first after restart", rsr, None),
        ("reconnect to restored after restart", rs, None),
        ("server restart (stop + start to listening)", ref["restart"], None),
    ]
    rows: list[tuple[object, ...]] = [("figure (ms)", "p50", "p95", "p99", "bare websockets p50/p95")]
    for name, stats, baseline in figures:
        assert isinstance(stats, LatencyStats)
        side = f"{baseline.p50:8.2f} / {baseline.p95:8.2f}" if baseline else "-"
        rows.append((name[:44], f"{stats.p50:.2f}", f"{stats.p95:.2f}", f"{stats.p99:.2f}", side))
    print(table(rows, (44, 8, 8, 8, 24), gaps=(" ", " ", " ", "   ")))
    print(f"contexts compared: {args.cycles + args.restarts}, mismatches: {ref['mismatches']}; "
          f"goal retrieval p95 <= {GOAL_P95_MS:g} ms: {'met' if r.p95 <= GOAL_P95_MS else 'NOT met'}")
    emit({
        "history_len": ref["history_len"],
        "user_messages": args.messages,
        "payload_bytes": payload_bytes,
        "cycles": args.cycles,
        "restarts": args.restarts,
        "retrieval_ms_p50": round(r.p50, 3),
        "retrieval_ms_p95": round(r.p95, 3),
        "retrieval_ms_p99": round(r.p99, 3),
        "restore_ms_p50": round(rr.p50, 3),
        "restore_ms_p95": round(rr.p95, 3),
        "restart_restore_ms_p50": round(rs.p50, 3),
        "restart_restore_ms_p95": round(rs.p95, 3),
        "restart_retrieval_ms_p95": round(rsr.p95, 3),
        "server_restart_ms_p50": round(ref["restart"].p50, 3),
        "bare_retrieval_ms_p50": round(b.p50, 3),
        "bare_retrieval_ms_p95": round(b.p95, 3),
        "bare_restore_ms_p50": round(br.p50, 3),
        "keyword_retrieval_ms_p50": round(ref["keyword_retrieval"].p50, 3),
        "keyword_retrieval_ms_p95": round(ref["keyword_retrieval"].p95, 3),
        "loop_retrieval_ms_p95": round(ref["loop_retrieval"].p95, 3),
        "loop_hop_ms_p50": round(ref["hop"].p50, 3),
        "loop_hop_ms_p95": round(ref["hop"].p95, 3),
        "mismatches": ref["mismatches"],
        "goal_retrieval_ms_p95": GOAL_P95_MS,
        "goal_met": r.p95 <= GOAL_P95_MS,
    })


if __name__ == "__main__":
    main()
