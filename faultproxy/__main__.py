"""``python -m wsresilience.faultproxy --api-port PORT``: the Toxiproxy HTTP API on loopback.

With ``--api-port 0`` the OS picks a free port; the first line on stdout says which::

    faultproxy API listening on http://127.0.0.1:40123

SIGTERM and SIGINT stop the API and every proxy, then the process exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from wsresilience.faultproxy import __version__
from wsresilience.faultproxy.api import ApiServer
from wsresilience.faultproxy.collection import ProxyCollection


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m wsresilience.faultproxy",
        description="Fault-injecting TCP proxy for WebSocket tests, driven by the Toxiproxy HTTP API.",
    )
    parser.add_argument("--api-port", type=int, default=8474,
                        help="port of the HTTP API (default 8474, as Toxiproxy; 0 = pick a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address of the HTTP API (default 127.0.0.1)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed for toxicity draws, jitter and slicing, so a run repeats")
    parser.add_argument("--version", action="version", version=f"faultproxy {__version__}")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    api = ApiServer(ProxyCollection(seed=args.seed), host=args.host, port=args.api_port)
    await api.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"faultproxy API listening on {api.url}", flush=True)
    try:
        await stop.wait()
    finally:
        await api.stop()
        print("faultproxy API stopped", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        asyncio.run(serve(args))
    except OSError as error:
        print(f"faultproxy: cannot listen on {args.host}:{args.api_port}: {error.strerror or error}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
