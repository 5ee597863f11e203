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
    It is an admission check the auth feature runs (``server.admission_checks``), so it
    sees every attempt with a genuine token, expired or not, before authentication.

Why throttling is keyed by user: the user is what identifies "the same client" across
reconnects. Source addresses do not: on loopback and behind NAT every client shares one,
so an address-keyed throttle would be a global rate limit, and a client that reconnects
gets a new source port each time. Unauthenticated connections are therefore not throttled.
"""

from __future__ import annotations

import time

from ..auth import Identity
from ..client import Client
from ..defects import Defect
from ..host import AdmissionCheck, Refusal, ServerHost

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
        server.admission_checks.append(reconnect_throttle())


def reconnect_throttle() -> AdmissionCheck:
    """An admission check refusing a user's reconnect within :data:`THROTTLE_WINDOW`."""
    last_accepted: dict[str, float] = {}

    async def throttle(client: Client, claimed: Identity) -> Refusal | None:
        now = time.monotonic()
        if now - last_accepted.get(claimed.user, -THROTTLE_WINDOW) < THROTTLE_WINDOW:
            return Refusal("reconnect-throttled", "reconnecting too fast; try again later", CLOSE_THROTTLED)
        last_accepted[claimed.user] = now
        return None

    return throttle
