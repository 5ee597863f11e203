"""Protocol profiles: how a framework opens a session, beats its heart and presents auth.

A *profile* tells the library what a service speaks above RFC 6455 (see :mod:`.base`):
``reference`` (docs/protocol.md), ``rfc6455`` (any WebSocket server), ``socketio`` (Socket.IO 4
over Engine.IO 4) and ``graphql-ws`` (the ``graphql-transport-ws`` subprotocol). Each lives
in one module that registers itself; :func:`get_profile` finds one by name.

Adding a framework (SignalR, Phoenix, …) is one new module here, imported below: see
docs/profiles.md.
"""

from wsresilience.core.profiles.base import (
    Announced,
    BareChannel,
    Channel,
    Handshake,
    HandshakeRefused,
    ProtocolProfile,
    get_profile,
    profile_names,
    register,
    render_auth_payload,
)
from wsresilience.core.profiles import reference, rfc6455, socketio, graphql_ws  # noqa: F401  (registration)

__all__ = [
    "Announced",
    "BareChannel",
    "Channel",
    "Handshake",
    "HandshakeRefused",
    "ProtocolProfile",
    "get_profile",
    "profile_names",
    "register",
    "render_auth_payload",
]
