"""The fault proxy's own cost: echo round trip and throughput, direct versus proxied.

One run, one websockets echo server (its own process), measured three ways:

* ``direct``: client straight to the echo server;
* ``proxy``: through ``python -m wsresilience.faultproxy`` in its own process (created over the
  Toxiproxy HTTP API, no toxics) — the standalone deployment;
* ``inloop``: through a :class:`FaultProxy` running in the client's own event loop —
  what a keyword library running the proxy on its core loop pays.

Round trips alternate in blocks between the three paths, so drift on the machine hits
all of them alike. Throughput echoes 1 MiB binary messages (incompressible,
compression off), sender and receiver concurrent, and counts payload bytes echoed.

Usage::

    python bench/proxy.py            # about 30 s
    python bench/proxy.py --quick    # about 10 s

The last line is one JSON object with the figures (goal: ``added_ms_p99`` < 1 and
``throughput_ratio`` >= 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import urllib.request

import websockets

from wsresilience.faultproxy import FaultProxy

from common import REPO, emit, rank_percentile

MAX_SIZE = 4 * 1024 * 1024
START_TIMEOUT = 10.0

ECHO_SERVER = """
import asyncio, websockets
async def echo(ws):
    async for m in ws:
        await ws.send(m)
async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, compression=None, max_size=%d,
                                ping_interval=None) as s:
        print(s.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()
asyncio.run(main())
""" % MAX_SIZE


async def first_line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    async with asyncio.timeout(START_TIMEOUT):
        return (await process.stdout.readline()).decode().strip()


async def rtt_block(url: str, count: int, payload: bytes) -> list[float]:
    async with websockets.connect(url, compression=None, max_size=MAX_SIZE, ping_interval=None) as ws:
        for _ in range(20):  # warm-up
            await ws.send(payload)
            await ws.recv()
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            await ws.send(payload)
            await ws.recv()
            samples.append(time.perf_counter() - start)
        return samples


async def throughput(url: str, messages: int, size: int) -> float:
    """MB/s (10**6 bytes) of payload echoed back, 1 MiB messages in flight both ways."""
    payload = os.urandom(size)
    async with websockets.connect(url, compression=None, max_size=MAX_SIZE, ping_interval=None,
                                  write_limit=MAX_SIZE) as ws:
        await ws.send(payload)
        await ws.recv()  # warm-up
        start = time.perf_counter()

        async def sender() -> None:
            for _ in range(messages):
                await ws.send(payload)

        async def receiver() -> int:
            total = 0
            for _ in range(messages):
                total += len(await ws.recv())
            return total

        async with asyncio.timeout(120):
            _, received = await asyncio.gather(sender(), receiver())
        return received / (time.perf_counter() - start) / 1e6


async def main(quick: bool) -> dict[str, float]:
    blocks, block = (10, 1000) if quick else (20, 2500)
    messages = 200 if quick else 600  # 1 MiB each, per throughput run (three runs per path)
    echo = await asyncio.create_subprocess_exec(sys.executable, "-c", ECHO_SERVER, stdout=asyncio.subprocess.PIPE)
    api = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wsresilience.faultproxy", "--api-port", "0", cwd=REPO, stdout=asyncio.subprocess.PIPE)
    inloop: FaultProxy | None = None
    try:
        echo_port = int(await first_line(echo))
        api_url = (await first_line(api)).rsplit(" ", 1)[1]
        request = urllib.request.Request(
            api_url + "/proxies", method="POST",
            data=json.dumps({"name": "bench", "upstream": f"127.0.0.1:{echo_port}"}).encode())
        with urllib.request.urlopen(request, timeout=10) as response:
            proxy_port = int(json.loads(response.read())["listen"].rsplit(":", 1)[1])
        inloop = FaultProxy("inloop", upstream=f"127.0.0.1:{echo_port}")
        await inloop.start()

        urls = {"direct": f"ws://127.0.0.1:{echo_port}", "proxy": f"ws://127.0.0.1:{proxy_port}",
                "inloop": f"ws://127.0.0.1:{inloop.port}"}
        payload = b"x" * 64
        rtts: dict[str, list[float]] = {k: [] for k in urls}
        for _ in range(blocks):
            for name, url in urls.items():
                rtts[name] += await rtt_block(url, block, payload)
        runs: dict[str, list[float]] = {k: [] for k in urls}
        for _ in range(3):  # round-robin, like the round trips, then the median per path
            for name, url in urls.items():
                runs[name].append(await throughput(url, messages, 1 << 20))
        mbps = {name: statistics.median(values) for name, values in runs.items()}
    finally:
        if inloop is not None:
            await inloop.stop()
        for process in (echo, api):
            if process.returncode is None:
                process.terminate()
                async with asyncio.timeout(10):
                    await process.wait()

    ms = {name: (rank_percentile(v, 50) * 1e3, rank_percentile(v, 99) * 1e3) for name, v in rtts.items()}
    for name in urls:
        print(f"{name:>7}: rtt p50 {ms[name][0] * 1e3:7.0f} us  p99 {ms[name][1] * 1e3:7.0f} us  "
              f"{mbps[name]:7.1f} MB/s  ({len(rtts[name])} round trips)")
    return {
        "direct_rtt_ms_p50": round(ms["direct"][0], 4),
        "direct_rtt_ms_p99": round(ms["direct"][1], 4),
        "proxy_rtt_ms_p50": round(ms["proxy"][0], 4),
        "proxy_rtt_ms_p99": round(ms["proxy"][1], 4),
        "added_ms_p99": round(ms["proxy"][1] - ms["direct"][1], 4),
        "direct_mb_per_s": round(mbps["direct"], 1),
        "proxy_mb_per_s": round(mbps["proxy"], 1),
        "throughput_ratio": round(mbps["proxy"] / mbps["direct"], 3),
        "inloop_rtt_ms_p50": round(ms["inloop"][0], 4),
        "inloop_rtt_ms_p99": round(ms["inloop"][1], 4),
        "inloop_added_ms_p99": round(ms["inloop"][1] - ms["direct"][1], 4),
        "inloop_mb_per_s": round(mbps["inloop"], 1),
        "inloop_throughput_ratio": round(mbps["inloop"] / mbps["direct"], 3),
        "goal_added_ms_p99_max": 1.0,
        "goal_throughput_ratio_min": 0.5,
        "quick": quick,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples, under 30 s")
    emit(asyncio.run(main(parser.parse_args().quick)))
