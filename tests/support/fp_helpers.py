"""Shared helpers: a real websockets echo server, a proxy in front of it, timing, TCP state.

Tests run their scenario with :func:`run`, which bounds the whole scenario with a
timeout, so a hang is a failure with a message, never a stuck suite.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.server import ServerConnection

from wsresilience.faultproxy import FaultProxy

TCP_ESTABLISHED = 1
TCP_CLOSE_WAIT = 8


def run(scenario: Callable[[], Awaitable[Any]], timeout: float = 20.0) -> Any:
    """Run an async scenario in a fresh loop, failing if it takes longer than ``timeout`` s."""

    async def bounded() -> Any:
        try:
            async with asyncio.timeout(timeout):
                return await scenario()
        except TimeoutError:
            raise AssertionError(f"scenario {scenario.__name__} did not finish within {timeout} s") from None

    return asyncio.run(bounded())


async def echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


@asynccontextmanager
async def echo_server(handler: Callable[[ServerConnection], Awaitable[None]] = echo, **kwargs: Any) -> AsyncIterator[int]:
    """A websockets server on 127.0.0.1, OS-chosen port; yields the port."""
    kwargs.setdefault("ping_interval", None)
    async with websockets.serve(handler, "127.0.0.1", 0, **kwargs) as server:
        yield server.sockets[0].getsockname()[1]


@asynccontextmanager
async def proxy_to(port: int, **kwargs: Any) -> AsyncIterator[FaultProxy]:
    """A started :class:`FaultProxy` in front of ``127.0.0.1:port``; stopped on exit."""
    proxy = FaultProxy("test", upstream=f"127.0.0.1:{port}", **kwargs)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


def ws_url(proxy: FaultProxy) -> str:
    return f"ws://127.0.0.1:{proxy.port}"


async def round_trip(ws: ClientConnection, message: str | bytes = "ping", timeout: float = 5.0) -> float:
    """Send ``message``, wait for its echo; return the elapsed seconds (monotonic)."""
    start = time.monotonic()
    await ws.send(message)
    async with asyncio.timeout(timeout):
        reply = await ws.recv()
    elapsed = time.monotonic() - start
    assert reply == message, f"expected the echo of {message!r:.40}, got {reply!r:.40}"
    return elapsed


def tcp_state(sock: socket.socket | Any) -> int:
    """Linux TCP state of a socket (first byte of TCP_INFO): 1 ESTABLISHED, 8 CLOSE_WAIT."""
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def raw_tcp_server(handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]) -> asyncio.Server:
    """A plain TCP server on 127.0.0.1, OS-chosen port (for byte-level toxics)."""
    return await asyncio.start_server(handler, "127.0.0.1", 0)


async def read_until_eof(reader: asyncio.StreamReader, timeout: float) -> tuple[bytes, float]:
    """Read everything until EOF; return the bytes and the seconds it took."""
    start = time.monotonic()
    async with asyncio.timeout(timeout):
        data = await reader.read()
    return data, time.monotonic() - start
