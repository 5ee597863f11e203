"""The reference server's ``--gc-freeze-every``: off by default, a freeze every N accepted."""

from __future__ import annotations

import asyncio
import gc

from websockets.asyncio.client import connect

from wsresilience.refserver.__main__ import parse_args
from wsresilience.refserver.app import ServerApp
from wsresilience.refserver.config import ServerConfig


def _frozen_after(config: ServerConfig, connections: int) -> int:
    """Objects frozen once ``connections`` clients have been accepted by an in-process server."""

    async def main() -> int:
        server = ServerApp(config)
        await server.start()
        try:
            clients = [await connect(server.url, proxy=None) for _ in range(connections)]
            for ws in clients:
                await ws.send('{"type": "ping"}')  # the server has run its handler by the reply
                await ws.recv()
            frozen = gc.get_freeze_count()
            for ws in clients:
                await ws.close()
            return frozen
        finally:
            await server.stop()

    gc.unfreeze()
    try:
        return asyncio.run(main())
    finally:
        gc.unfreeze()


def test_the_server_freezes_every_n_accepted_connections_only_when_asked() -> None:
    assert parse_args(["--gc-freeze-every", "2"]).gc_freeze_every == 2
    assert parse_args([]).gc_freeze_every == 0
    assert _frozen_after(ServerConfig(port=0), 2) == 0
    assert _frozen_after(ServerConfig(port=0, gc_freeze_every=2), 1) == 0
    assert _frozen_after(ServerConfig(port=0, gc_freeze_every=2), 2) > 0
