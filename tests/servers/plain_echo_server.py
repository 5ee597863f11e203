"""A third-party stand-in: a plain `websockets` echo server, nothing of ours inside.

``python tests/servers/plain_echo_server.py --ping-interval 0.5 --ping-timeout 0.5``
prints ``listening on ws://127.0.0.1:PORT/`` and serves until SIGTERM. ``--ping-interval 0``
turns keepalive off.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from websockets.asyncio.server import serve


async def echo(ws) -> None:  # noqa: ANN001
    async for message in ws:
        await ws.send(message)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ping-interval", type=float, default=0.5)
    parser.add_argument("--ping-timeout", type=float, default=0.5)
    parser.add_argument("--close-timeout", type=float, default=0.5)
    args = parser.parse_args()
    async with serve(echo, "127.0.0.1", 0, ping_interval=args.ping_interval or None,
                     ping_timeout=args.ping_timeout, close_timeout=args.close_timeout) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on ws://127.0.0.1:{port}/", flush=True)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
