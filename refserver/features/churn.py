"""Connection churn: seeded defects that show when clients connect and disconnect rapidly.

A healthy server does nothing here. With a defect (``--defect NAME``):

``leak-connections``
    A closed connection stays in the server's connection registry: ``ws_open_connections``
    and ``ws_authenticated_sessions`` never come back down. (The socket itself is closed;
    what leaks is the registry entry, as when a handler forgets to deregister.)
``leak-memory``
    Every connection leaves :data:`LEAK_BYTES` (64 KiB) of memory behind, forever.
``throttle-reconnects``
    An authentication is refused when the same user's last accepted one is less than
    :data:`THROTTLE_WINDOW` (200 ms) ago: error ``reconnect-throttled``, then close 4029.

Why throttling is keyed by user: the user is what identifies "the same client" across
reconnects. Source addresses do not: on loopback and behind NAT every client shares one,
so an address-keyed throttle would be a global rate limit, and a client that reconnects
gets a new source port each time. Unauthenticated connections are therefore not throttled.
"""

from __future__ import annotations

import time
from typing import Any

from ..auth import TokenRejected, verify_token
from ..client import Client
from ..defects import Defect
from ..host import ServerHost

LEAK_BYTES = 64 * 1024
THROTTLE_WINDOW = 0.2
CLOSE_THROTTLED = 4029


def install(server: ServerHost) -> None:
    """Install the churn defects the server was started with (none on a healthy server)."""
    if server.config.has(Defect.LEAK_CONNECTIONS):

        async def keep_in_registry(client: Client) -> None:
            if client not in server.leaked:
                server.leaked.append(client)

        server.on_disconnected.append(keep_in_registry)

    if server.config.has(Defect.LEAK_MEMORY):
        retained: list[bytes] = []

        async def retain_memory(client: Client) -> None:
            retained.append(bytes([client.id % 251 + 1]) * LEAK_BYTES)  # touched, so resident

        server.on_disconnected.append(retain_memory)

    if server.config.has(Defect.THROTTLE_RECONNECTS):
        _throttle_auth(server)


def _throttle_auth(server: ServerHost) -> None:
    """Wrap the ``auth`` handler: refuse a user's reconnect within the throttle window."""
    authenticate = server.router.handlers["auth"]
    last_accepted: dict[str, float] = {}

    async def throttled_auth(client: Client, message: dict[str, Any]) -> None:
        try:
            user = verify_token(server.auth_secret, message.get("token"), check_expiry=False).user
        except TokenRejected:
            await authenticate(client, message)  # let authentication say what is wrong
            return
        now = time.monotonic()
        if now - last_accepted.get(user, -THROTTLE_WINDOW) < THROTTLE_WINDOW:
            await client.send_error("reconnect-throttled", "reconnecting too fast; try again later")
            await client.ws.close(CLOSE_THROTTLED, "reconnect-throttled")
            return
        last_accepted[user] = now
        await authenticate(client, message)

    server.router.register("auth", throttled_auth)
