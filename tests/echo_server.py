"""A plain ``websockets`` echo server, the kind of third-party target the suites must handle.

``python tests/echo_server.py [--leak-fd]`` prints ``listening on ws://127.0.0.1:PORT/`` and
serves until killed. With ``--leak-fd`` every connection opens a file descriptor (``/dev/null``)
that is never closed: the resource leak the WS-RESILIENCE-006 leak checks must catch.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from websockets.asyncio.server import ServerConnection, serve

leaked: list[int] = []


async def main(leak_fd: bool) -> None:
    async def echo(ws: ServerConnection) -> None:
        if leak_fd:
            leaked.append(os.open(os.devnull, os.O_RDONLY))
        async for message in ws:
            await ws.send(message)

    async with serve(echo, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on ws://127.0.0.1:{port}/", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--leak-fd", action="store_true")
    asyncio.run(main(parser.parse_args().leak_fd))
