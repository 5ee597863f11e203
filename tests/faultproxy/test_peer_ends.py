"""How each peer ended a connection is noted even when a toxic keeps it from the other side
(``Link.peer_ends``, ``Connection.changed``, ``FaultProxy.on_connection``)."""

from __future__ import annotations

import asyncio
import socket
import struct

import websockets
from websockets.asyncio.server import ServerConnection

from wsresilience.faultproxy.connection import Connection
from support.fp_helpers import echo_server, proxy_to, raw_tcp_server, run, ws_url


def test_a_server_close_behind_a_blackhole_is_noted_upstream_only() -> None:
    async def close_soon(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.close(1001, "going away")

    async def scenario() -> None:
        async with echo_server(close_soon) as port, proxy_to(port) as proxy:
            seen: list[Connection] = []
            proxy.on_connection = seen.append
            async with websockets.connect(ws_url(proxy), close_timeout=0.5) as ws:
                conn = seen[0]
                await proxy.add_toxic("timeout", stream="downstream", attributes={"timeout": 0})
                await ws.send("bye")
                async with asyncio.timeout(3):
                    while "close frame" not in conn.links["downstream"].peer_ends:
                        conn.changed.clear()
                        await conn.changed.wait()
                ends = conn.links["downstream"].peer_ends
                assert list(ends)[0] == "close frame", ends
                assert conn.links["upstream"].peer_ends == {}, "the client ended nothing"
                assert ws.close_code is None, "the blackhole kept the close frame from the client"

    run(scenario)


def test_a_server_reset_is_noted_as_rst() -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        sock = writer.transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async def scenario() -> None:
        server = await raw_tcp_server(reset)
        port = server.sockets[0].getsockname()[1]
        try:
            async with proxy_to(port) as proxy:
                seen: list[Connection] = []
                accepted = asyncio.Event()
                proxy.on_connection = lambda conn: (seen.append(conn), accepted.set())
                _reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
                async with asyncio.timeout(3):
                    await accepted.wait()
                    writer.write(b"x")
                    while not seen[0].closed:
                        seen[0].changed.clear()
                        await seen[0].changed.wait()
                assert "RST" in seen[0].links["downstream"].peer_ends
                assert seen[0].how_closed == "reset"
                writer.close()
        finally:
            server.close()
            await server.wait_closed()

    run(scenario)
