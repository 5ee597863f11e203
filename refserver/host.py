"""What a feature sees of the server: the surface it installs itself on.

Every feature module (:mod:`refserver.features`) has one entry point,
``install(server: ServerHost) -> None``, and knows the server only through this protocol:
it registers message handlers on ``router``, hooks into the connection's life cycle and
adds metrics. The server class (:mod:`refserver.app`) satisfies it structurally and is the
only module that imports the features, so no feature ever imports the server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from .client import Client
from .config import ServerConfig
from .metrics import ServerCollector
from .router import Router

#: Run after a client authenticates, in registration order; may return fields to add to
#: the ``auth-ok`` reply.
AuthenticatedHook = Callable[[Client], Awaitable[dict[str, Any] | None]]
#: Run when a client's connection ends, however it ends, in registration order. One that
#: raises is logged and does not stop the others.
DisconnectedHook = Callable[[Client], Awaitable[None]]


class ServerHost(Protocol):
    """The server as features see it."""

    #: How the server was started, seeded defects included.
    config: ServerConfig
    #: Message handlers by message type.
    router: Router
    #: Gauges and counters served on ``/metrics``.
    metrics: ServerCollector
    #: Clients with an open connection.
    clients: set[Client]
    #: Clients whose connection ended but that the server still holds (seeded defects
    #: ``leak-zombies`` and ``leak-connections`` only).
    leaked: list[Client]
    on_authenticated: list[AuthenticatedHook]
    on_disconnected: list[DisconnectedHook]
    #: The token signing secret, set by the auth feature.
    auth_secret: str
