"""One connected client, as the server and its features see it.

A leaf module (websockets only), so the router, the keepalive and every feature can name
the client without importing the server that creates it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection


@dataclass(eq=False)
class Client:
    """One connected client, as the server tracks it."""

    id: int
    ws: ServerConnection
    opened: float = field(default_factory=time.monotonic)
    zombie: bool = False
    #: The authenticated user, once the ``auth`` message succeeded.
    user: str | None = None
    #: Per-feature state (sessions, streams…), keyed by feature name.
    state: dict[str, Any] = field(default_factory=dict)

    async def send_json(self, message: dict[str, Any]) -> None:
        """Send a JSON message."""
        await self.ws.send(json.dumps(message, separators=(",", ":")))

    async def send_raw(self, message: str | bytes) -> None:
        """Send a message as is."""
        await self.ws.send(message)

    async def send_error(self, code: str, message: str) -> None:
        """Send an error with a stable ``code`` and a human ``message``."""
        await self.send_json({"type": "error", "code": code, "message": message})
