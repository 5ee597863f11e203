"""Heartbeat test controls.

``{"type": "control", "action": "stop-answering", "seconds": 2.0}`` makes the server stop
answering this connection for that long: it acknowledges with
``{"type": "control-ack", "action": "stop-answering"}``, then stops reading the connection
(so the client's pings get no pong) and stops its own keepalive for it (so it does not
close the connection meanwhile). After ``seconds`` it reads again. This is how a suite
plays "the server hangs" against the reference server; against any server, the fault
proxy's blackhole does the same.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..client import Client
from ..host import ServerHost

MAX_STOP_SECONDS = 60.0


def install(server: ServerHost) -> None:
    """Register the heartbeat controls and the echo message."""

    async def control(client: Client, message: dict[str, Any]) -> None:
        action = message.get("action")
        if action != "stop-answering":
            await client.send_error("unknown-action", f"unknown control action {action!r}")
            return
        seconds = min(float(message.get("seconds", 5.0)), MAX_STOP_SECONDS)
        await client.send_json({"type": "control-ack", "action": action, "seconds": seconds})
        ws = client.ws
        if ws.keepalive_task is not None:
            ws.keepalive_task.cancel()
            ws.keepalive_task = None
        ws.transport.pause_reading()

        def resume() -> None:
            if not ws.transport.is_closing():
                ws.transport.resume_reading()
                ws.start_keepalive()

        asyncio.get_running_loop().call_later(seconds, resume)

    async def echo(client: Client, message: dict[str, Any]) -> None:
        await client.send_json({"type": "echo", "data": message.get("data")})

    server.router.register("control", control)
    server.router.register("echo", echo)
