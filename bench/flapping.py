"""Flapping throughput: the Flapping library versus a bare ``websockets`` loop, same server, one run.

Both sides run the same connect → hold → close → pause cycles at the same concurrency against
the same reference server process (plain connections, compression off on both). The main
figure holds for 0 ms and pauses 0 ms, so it measures how fast each side can churn
connections; a second pass at the source-review timing (hold 100 ms, pause 50 ms, as the
source review documents them) shows both keep the schedule.
The sides alternate (bare, library, bare, library…) and each figure is the median of its
repeats, so drift on a busy machine hits both alike.

    python bench/flapping.py            # 10 clients × 300 cycles, 3 repeats
    python bench/flapping.py --quick    # under a minute

The last line printed is one JSON object: cycles_per_s, bare_cycles_per_s, ratio,
success_rate, and the source-review-timing figures (keys ``seed_timing_*``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import statistics
import time
from datetime import timedelta

from websockets.asyncio.client import connect

from wsresilience.Flapping import Flapping

from common import emit, reference_server, table


async def bare_flap(url: str, clients: int, cycles: int, hold: float, pause: float) -> tuple[float, int]:
    """The same cycles with nothing but websockets: returns (cycles/s, successes)."""
    ok = 0

    async def client() -> None:
        nonlocal ok
        for i in range(cycles):
            try:
                ws = await connect(url, ping_interval=None, compression=None, proxy=None, close_timeout=2)
            except Exception:
                continue
            if hold:
                await asyncio.sleep(hold)
            await ws.close()
            ok += 1
            if i < cycles - 1:
                await asyncio.sleep(pause)

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    return clients * cycles / (time.monotonic() - started), ok


def library_flap(lib: Flapping, url: str, clients: int, cycles: int, hold: float,
                 pause: float) -> tuple[float, float]:
    """The cycles through the keyword library (its loop thread, its engine): (cycles/s, success %)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        started = time.monotonic()
        summary = lib.flap_clients(url, clients=clients, cycles=cycles, connected=timedelta(seconds=hold),
                                   disconnected=timedelta(seconds=pause))
        elapsed = time.monotonic() - started
    # Wall time around the keyword, the way a suite pays for it (includes the thread hand-off).
    return summary["attempts"] / elapsed, float(summary["success_rate"])  # type: ignore[arg-type]


def compare(lib: Flapping, url: str, clients: int, cycles: int, hold: float, pause: float,
            repeats: int) -> dict[str, float]:
    bare, mine, rates = [], [], []
    for _ in range(repeats):
        rate, ok = asyncio.run(bare_flap(url, clients, cycles, hold, pause))
        bare.append(rate)
        rates.append(100.0 * ok / (clients * cycles))
        rate, success = library_flap(lib, url, clients, cycles, hold, pause)
        mine.append(rate)
        rates.append(success)
    lib_rate, bare_rate = statistics.median(mine), statistics.median(bare)
    return {"cycles_per_s": round(lib_rate, 1), "bare_cycles_per_s": round(bare_rate, 1),
            "ratio": round(lib_rate / bare_rate, 3), "success_rate": round(min(rates), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer cycles and repeats: under a minute")
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()
    cycles, repeats, review_cycles = (100, 3, 10) if args.quick else (300, 5, 30)

    with reference_server(["--port", "0", "--ping-interval", "20"]) as server:
        lib = Flapping()
        try:
            churn = compare(lib, server.url, args.clients, cycles, 0.0, 0.0, repeats)
            review = compare(lib, server.url, args.clients, review_cycles, 0.1, 0.05, 1)
        finally:
            lib.ctx.close()

    print(table([
        ("", "library", "bare websockets", "ratio"),
        ("churn (0 ms hold), cycles/s", churn["cycles_per_s"], churn["bare_cycles_per_s"], churn["ratio"]),
        ("source-review timing (100/50 ms), cycles/s", review["cycles_per_s"], review["bare_cycles_per_s"],
         review["ratio"]),
    ], (None, 12, 18, 8)))
    print(f"success rate: {churn['success_rate']} % (churn), {review['success_rate']} % (source-review timing); "
          f"{args.clients} clients, {cycles} cycles each, median of {repeats}")
    emit({**churn, "clients": args.clients, "cycles_per_client": cycles, "repeats": repeats,
          "seed_timing_cycles_per_s": review["cycles_per_s"],
          "seed_timing_bare_cycles_per_s": review["bare_cycles_per_s"],
          "seed_timing_success_rate": review["success_rate"]})


if __name__ == "__main__":
    main()
