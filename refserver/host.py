"""What a feature sees of the server: the surface it installs itself on.

Every feature module (:mod:`wsresilience.refserver.features`) has one entry point,
``install(server: ServerHost) -> None``, and knows the server only through this protocol:
it registers message handlers on ``router``, hooks into the connection's life cycle and
adds metrics. The server class (:mod:`wsresilience.refserver.app`) satisfies it structurally and is the
only module that imports the features, so no feature ever imports the server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .auth import Identity
from .client import Client
from .config import ServerConfig
from .metrics import ServerCollector
from .router import Router


@dataclass(frozen=True)
class Refusal:
    """Why an admission check turns a client away: the error it gets, then the close."""

    #: The error's stable ``code``, also the close reason.
    code: str
    #: The error's human message.
    message: str
    close_code: int


#: Run by the auth feature on an ``auth`` message whose token is genuine (signature and
#: claims verify; its expiry is not judged yet), in registration order, before the client
#: is authenticated. Each sees who the token claims to be and returns a :class:`Refusal`
#: to turn the client away, or ``None`` to let it through. This is how another feature
#: adds a condition to authentication without touching the ``auth`` handler.
AdmissionCheck = Callable[[Client, Identity], Awaitable[Refusal | None]]
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
    admission_checks: list[AdmissionCheck]
    on_authenticated: list[AuthenticatedHook]
    on_disconnected: list[DisconnectedHook]
