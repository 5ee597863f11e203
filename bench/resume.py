"""Benchmark: many concurrent resumable streams, each cut again and again; and one stream, uncut.

    python bench/resume.py            # 100 streams x 10 cuts, 256 KiB each; ingest of 16 MiB
    python bench/resume.py --quick    # 20 streams x 3 cuts; ingest of 4 MiB (well under a minute)

Starts the reference server as its own process, opens one session (connection) per stream,
receives every stream while cutting its connection (client abort) every few chunks and
resuming, then verifies each stream: once over ``stream/1`` (a JSON message per chunk) and
once over ``stream/2`` (chunks batched in binary frames, what the reference adapter and
server negotiate; ``mb_per_s`` is this one). Side by side, in the same run: a bare
``websockets`` server process sends the same payload (the same generated text, generated
before its clock starts) in the same chunk size as bare text frames, with no cuts, to one
client connection; ours goes over one connection per stream and the reference server
generates the text inside the measured time. Then the bare handshakes alone: as many
connections opened and aborted, as many at a time, against the same server.

Ingest (the question "can the library keep up with a fast service?"): ONE stream, no cuts,
received by the library's stream client over ``stream/1`` and by a bare ``websockets``
client that parses the same JSON chunk messages from the same server, alternating
``--ingest-rounds`` times; medians, and each side's client CPU time.

The client acks every ``--ack-every`` chunks and asks the server to send at most
``--max-in-flight`` chunks beyond the last ack (0: no limit, the server sends a whole stream
at once and a cut throws away everything in flight).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import statistics
import subprocess
import sys
import time

import psutil

from wsresilience.core.streams.adapter import PROTOCOLS, ReferenceAdapter, StreamRequest
from wsresilience.core.streams.backoff import BackoffPolicy
from wsresilience.core.streams.cuts import receive_with_cuts
from wsresilience.core.streams.session import StreamSession

from common import emit, percentile, reference_server, table


def stream_1() -> ReferenceAdapter:
    """The reference adapter offering ``stream/1`` only: a JSON message per chunk."""
    return ReferenceAdapter(protocols=("stream/1",))


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used so far."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


async def resumable(url: str, streams: int, cuts: int, size: int, chunk: int, ack_every: int,
                    max_in_flight: int, protocols: tuple[str, ...] = PROTOCOLS,
                    server_pid: int | None = None) -> dict[str, float]:
    """``streams`` sessions, each receiving one stream while cut ``cuts`` times; the figures,
    with the client's and (given ``server_pid``) the server's CPU seconds in the measured time."""
    chunks_per_stream = -(-size // chunk)
    every = max(1, chunks_per_stream // (cuts + 1))
    policy = BackoffPolicy(base=0.01, factor=2, cap=0.2, limit=10, seed=1)
    sessions = [StreamSession(f"s{i}", url, ReferenceAdapter(protocols), policy, ack_every=ack_every)
                for i in range(streams)]
    await asyncio.gather(*(s.connect() for s in sessions))
    server_cpu = cpu_seconds(server_pid) if server_pid else 0.0
    client_cpu = time.process_time()
    started = time.perf_counter()
    # The first cut is armed with the request: a fast stream cannot outrun the schedule.
    await asyncio.gather(*(s.start("x", StreamRequest("text", size, chunk, seed=i,
                                                      max_in_flight=max_in_flight), 10,
                                   cut_after=every if cuts else None)
                           for i, s in enumerate(sessions)))
    made = await asyncio.gather(*(receive_with_cuts(s, ["x"], every, None, cuts, 120) for s in sessions))
    elapsed = time.perf_counter() - started
    client_cpu = time.process_time() - client_cpu
    server_cpu = cpu_seconds(server_pid) - server_cpu if server_pid else float("nan")
    resume_ms = [r.resume_s * 1000 for s in sessions for r in s.streams["x"].recoveries
                 if r.resume_s is not None]
    reconnect_ms = [r.reconnect_s * 1000 for s in sessions for r in s.streams["x"].recoveries
                    if r.reconnect_s is not None]
    lost = duplicated = broken = 0
    for s in sessions:
        a = s.streams["x"].assembly
        lost += (a.end.chunks - a.received) if a.end else chunks_per_stream - a.received
        duplicated += len(a.duplicates) + len(a.conflicts)
        broken += bool(s.streams["x"].problems())  # misplaced resumes too
    await asyncio.gather(*(s.close() for s in sessions))
    return {
        "streams": streams, "cuts": sum(made), "bytes": streams * size, "seconds": elapsed,
        "mb_per_s": streams * size / elapsed / 1e6, "lost": lost, "duplicated": duplicated,
        "broken_streams": broken, "client_cpu_s": client_cpu, "server_cpu_s": server_cpu,
        "resume_ms_p50": percentile(resume_ms, 50), "resume_ms_p99": percentile(resume_ms, 99),
        "reconnect_ms_p50": percentile(reconnect_ms, 50),
        "reconnect_ms_p99": percentile(reconnect_ms, 99),
    }


async def ingest(url: str, size: int, chunk: int, ack_every: int, max_in_flight: int,
                 adapter: ReferenceAdapter) -> dict[str, float]:
    """The library's client receiving ONE stream, no cuts: how fast it ingests chunk messages.

    Clocked from the first chunk's arrival to the end message's (the server generates the
    content before its first chunk, outside this clock, as for :func:`bare_ingest`); the
    stream is verified (every seq once, SHA-256) after the clock stops.
    """
    policy = BackoffPolicy(base=0.01, factor=2, cap=0.2, limit=3, seed=1)
    session = StreamSession("ingest", url, adapter, policy, ack_every=ack_every, max_message_size=None)
    await session.connect()
    try:
        stream = await session.start("x", StreamRequest("text", size, chunk, seed=7,
                                                        max_in_flight=max_in_flight), 10)
        cpu = time.process_time()
        if not await session.wait_complete(["x"], 120):
            raise SystemExit("bench: the library's ingest stream did not end within 120 s")
        cpu = time.process_time() - cpu
        assert stream.ended_at is not None
        seconds = stream.ended_at - stream.assembly.arrivals[0].t
        failure = stream.failure()
        if failure is not None:
            raise SystemExit(f"bench: {failure}")
    finally:
        await session.close()
    return {"bytes": size, "seconds": seconds, "mb_per_s": size / seconds / 1e6, "cpu_s": cpu}


async def bare_ingest(url: str, size: int, chunk: int, ack_every: int, max_in_flight: int) -> dict[str, float]:
    """A bare ``websockets`` client of ``stream/1`` receiving the same stream from the same server.

    It sends the same start, parses every message with ``json.loads``, keeps each chunk's
    data and acks every ``ack_every`` chunks (the server's work is then the same as for the
    library); clocked and verified like :func:`ingest`.
    """
    from websockets.asyncio.client import connect

    request = {"kind": "text", "size": size, "chunk_size": chunk, "seed": 7, "interval_ms": 0}
    if max_in_flight:
        request["max_in_flight"] = max_in_flight
    async with connect(url, compression=None, max_size=None, ping_interval=None) as ws:
        await ws.send(json.dumps({"type": "stream-start", "ref": "x-1", "request": request}))
        started = json.loads(await ws.recv())
        cpu = time.process_time()
        stream_id = started["stream"]
        parts: list[str] = []
        first = 0.0
        async for raw in ws:
            m = json.loads(raw)
            if m["type"] == "chunk":
                if not parts:
                    first = time.perf_counter()
                parts.append(m["data"])
                if len(parts) % ack_every == 0:
                    await ws.send(json.dumps({"type": "stream-ack", "stream": stream_id, "seq": m["seq"]}))
            elif m["type"] == "stream-end":
                seconds = time.perf_counter() - first
                cpu = time.process_time() - cpu
                break
        await ws.send(json.dumps({"type": "stream-ack", "stream": stream_id, "seq": len(parts)}))
    if hashlib.sha256("".join(parts).encode()).hexdigest() != m["sha256"]:
        raise SystemExit("bench: the bare ingest stream does not match its SHA-256")
    return {"bytes": size, "seconds": seconds, "mb_per_s": size / seconds / 1e6, "cpu_s": cpu}


async def ingest_rounds(url: str, rounds: int, size: int, chunk: int, ack_every: int,
                        max_in_flight: int) -> dict[str, float]:
    """Library, bare and library over ``stream/2``, alternating ``rounds`` times on one
    server; the median of each (the machine may be shared: the same-run ratio matters)."""
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    ours_v2: list[dict[str, float]] = []
    for _ in range(rounds):
        ours.append(await ingest(url, size, chunk, ack_every, max_in_flight, stream_1()))
        theirs.append(await bare_ingest(url, size, chunk, ack_every, max_in_flight))
        ours_v2.append(await ingest(url, size, chunk, ack_every, max_in_flight, ReferenceAdapter()))

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    lib, bare_ = median(ours, "mb_per_s"), median(theirs, "mb_per_s")
    return {"ingest_mb_per_s": lib, "bare_ingest_mb_per_s": bare_, "ingest_ratio": lib / bare_,
            "ingest_client_cpu_s": median(ours, "cpu_s"), "bare_ingest_client_cpu_s": median(theirs, "cpu_s"),
            "ingest_v2_mb_per_s": median(ours_v2, "mb_per_s"), "ingest_rounds": rounds, "ingest_bytes": size}


async def bare_reconnects(url: str, streams: int, connections: int, server_pid: int) -> dict[str, float]:
    """Seconds for bare ``websockets`` clients to open and abort ``connections`` connections
    each, ``streams`` at a time, against the same server: the handshakes alone that
    ``streams x cuts`` cost (one first connection and one per cut), no stream, no resume;
    with the client's and the server's CPU seconds."""
    from websockets.asyncio.client import connect

    async def client() -> None:
        for _ in range(connections):
            ws = await connect(url, compression=None, ping_interval=None)
            ws.transport.abort()

    server_cpu, client_cpu = cpu_seconds(server_pid), time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(streams)))
    return {"seconds": time.perf_counter() - started, "client_cpu_s": time.process_time() - client_cpu,
            "server_cpu_s": cpu_seconds(server_pid) - server_cpu}


#: The same payload as the resumable streams (the generated text of seeds 0..streams-1, in
#: chunk-size pieces), generated before the clock starts, sent as bare text frames.
BARE_SERVER = """
import asyncio, sys
from websockets.asyncio.server import serve
from wsresilience.refserver.stream_content import text
streams, size, chunk = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
pieces = [t[i:i + chunk] for t in (text(size, seed) for seed in range(streams))
          for i in range(0, size, chunk)]
async def handler(ws):
    for piece in pieces:
        await ws.send(piece)
    await ws.close()
async def main():
    async with serve(handler, "127.0.0.1", 0, compression=None, max_size=None) as server:
        print(f"listening on ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/", flush=True)
        await asyncio.Future()
asyncio.run(main())
"""


async def bare(streams: int, size: int, chunk: int) -> dict[str, float]:
    from websockets.asyncio.client import connect

    proc = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(streams), str(size), str(chunk)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split("listening on ")[1].strip()
        received = 0
        started = time.perf_counter()
        async with connect(url, compression=None, max_size=None) as ws:
            async for message in ws:
                received += len(message)
        elapsed = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(5)
    return {"bytes": received, "seconds": elapsed, "mb_per_s": received / elapsed / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 streams x 3 cuts")
    parser.add_argument("--streams", type=int)
    parser.add_argument("--cuts", type=int)
    parser.add_argument("--size", type=int, default=256 * 1024, help="bytes per stream")
    parser.add_argument("--chunk", type=int, default=4096, help="chunk size in bytes")
    parser.add_argument("--ack-every", type=int, default=8, help="client acks every N chunks")
    parser.add_argument("--max-in-flight", type=int, default=8,
                        help="chunks the server may send beyond the last ack (0: no limit)")
    parser.add_argument("--ingest-size", type=int, help="bytes of the one ingest stream "
                        "(default 16 MiB, 4 MiB with --quick)")
    parser.add_argument("--ingest-rounds", type=int, default=3,
                        help="ingest runs per side, alternating; the median is reported")
    parser.add_argument("--ingest-max-in-flight", type=int, default=0,
                        help="max_in_flight of the ingest stream (0: no limit)")
    args = parser.parse_args()
    streams = args.streams or (20 if args.quick else 100)
    cuts = args.cuts if args.cuts is not None else (3 if args.quick else 10)
    ingest_size = args.ingest_size or ((4 if args.quick else 16) << 20)
    with reference_server(["--port", "0", "--ping-interval", "0"]) as server:
        v1 = asyncio.run(resumable(server.url, streams, cuts, args.size, args.chunk, args.ack_every,
                                   args.max_in_flight, ("stream/1",), server.pid))
        ours = asyncio.run(resumable(server.url, streams, cuts, args.size, args.chunk, args.ack_every,
                                     args.max_in_flight, PROTOCOLS, server.pid))
        handshakes = asyncio.run(bare_reconnects(server.url, streams, cuts + 1, server.pid))
        floor = handshakes["seconds"]
        fast = asyncio.run(ingest_rounds(server.url, args.ingest_rounds, ingest_size, args.chunk,
                                         args.ack_every, args.ingest_max_in_flight))
    theirs = asyncio.run(bare(streams, args.size, args.chunk))
    print(table([
        ("", "resumable streams", "bare websockets"),
        ("streams x cuts", f"{streams} x {cuts}", "1 conn, no cuts"),
        ("payload bytes (same text)", f"{ours['bytes']:,}", f"{theirs['bytes']:,}"),
        ("framing", "stream/2 batch frames", "bare text frame"),
        ("ack every / max in flight", f"{args.ack_every} / {args.max_in_flight or 'no limit'}"),
        ("seconds", f"{ours['seconds']:.3f}", f"{theirs['seconds']:.3f}"),
        ("throughput MB/s", f"{ours['mb_per_s']:.1f}", f"{theirs['mb_per_s']:.1f}"),
        ("cuts made", ours["cuts"]),
        ("resume ms p50 / p99", f"{ours['resume_ms_p50']:>11.2f} / {ours['resume_ms_p99']:<6.2f}"),
        ("reconnect ms p50 / p99", f"{ours['reconnect_ms_p50']:>11.2f} / {ours['reconnect_ms_p99']:<6.2f}"),
        ("lost / duplicated chunks", f"{ours['lost']:>11} / {ours['duplicated']:<6}"),
        ("streams failing verification", ours["broken_streams"]),
        ("CPU s in it: client / server", f"{ours['client_cpu_s']:>11.2f} / {ours['server_cpu_s']:<6.2f}"),
        ("same over stream/1: MB/s", f"{v1['mb_per_s']:.1f}", f"ratio {v1['mb_per_s'] / theirs['mb_per_s']:.3f}"),
        ("  resume ms p50 / p99", f"{v1['resume_ms_p50']:>11.2f} / {v1['resume_ms_p99']:<6.2f}"),
        ("  lost / dup. / failing streams", f"{v1['lost']} / {v1['duplicated']} / {v1['broken_streams']}"),
        ("  CPU s: client / server", f"{v1['client_cpu_s']:>11.2f} / {v1['server_cpu_s']:<6.2f}"),
        ("bare handshakes alone, seconds", f"{floor:.3f}", f"{streams * (cuts + 1)} opens"),
        ("  CPU s: client / server", f"{handshakes['client_cpu_s']:>11.2f} / {handshakes['server_cpu_s']:<6.2f}"),
        ("  so at most MB/s (ratio)", f"{ours['bytes'] / floor / 1e6:.1f}",
         f"({ours['bytes'] / floor / 1e6 / theirs['mb_per_s']:.2f})"),
        ("", "", ""),
        ("ingest: 1 stream, no cuts", f"{fast['ingest_bytes']:,} B", "bare + json.loads"),
        ("ingest MB/s (median)", f"{fast['ingest_mb_per_s']:.1f}", f"{fast['bare_ingest_mb_per_s']:.1f}"),
        ("ingest ratio (goal >= 0.8)", f"{fast['ingest_ratio']:.2f}"),
        ("ingest client CPU s (median)", f"{fast['ingest_client_cpu_s']:.3f}",
         f"{fast['bare_ingest_client_cpu_s']:.3f}"),
    ], (32, 20, 20)))
    result = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in ours.items()}
    result["bare_mb_per_s"] = round(theirs["mb_per_s"], 3)
    result["ratio"] = round(ours["mb_per_s"] / theirs["mb_per_s"], 3)
    result["bare_handshakes_s"] = round(floor, 3)
    result["bare_handshakes_client_cpu_s"] = round(handshakes["client_cpu_s"], 3)
    result["bare_handshakes_server_cpu_s"] = round(handshakes["server_cpu_s"], 3)
    result["handshake_bound_ratio"] = round(ours["bytes"] / floor / 1e6 / theirs["mb_per_s"], 3)
    result.update({k: (round(v, 3) if isinstance(v, float) else v) for k, v in fast.items()})
    result["protocol"] = "stream/2"
    result.update({f"stream1_{k}": (round(v, 3) if isinstance(v, float) else v) for k, v in v1.items()
                   if k in ("mb_per_s", "lost", "duplicated", "broken_streams", "resume_ms_p50", "resume_ms_p99",
                            "client_cpu_s", "server_cpu_s")})
    result["stream1_ratio"] = round(v1["mb_per_s"] / theirs["mb_per_s"], 3)
    result["quick"] = args.quick
    result["ack_every"], result["max_in_flight"] = args.ack_every, args.max_in_flight
    emit(result)


if __name__ == "__main__":
    main()
