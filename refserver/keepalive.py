"""The keepalive of seeded defect ``leak-zombies``.

It pings like websockets' own keepalive and, on a missing pong, sends the close frame
1011 "keepalive ping timeout" like it; but it never drops the TCP connection and the
server keeps the client in its registry: the zombie's socket and handler leak.
"""

from __future__ import annotations

import asyncio
import contextlib

from websockets.exceptions import ConnectionClosed

from .client import Client


async def leaky_keepalive(client: Client, interval: float, timeout: float) -> None:
    """Ping every ``interval``; after ``timeout`` without pong, mark a zombie and say so."""
    ws = client.ws
    with contextlib.suppress(ConnectionClosed):
        while True:
            await asyncio.sleep(interval)
            pong = await ws.ping()
            try:
                await asyncio.wait_for(pong, timeout)
            except TimeoutError:
                client.zombie = True
                ws.protocol.send_close(1011, "keepalive ping timeout")
                ws.send_data()
                return
