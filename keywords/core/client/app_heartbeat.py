"""Heartbeats a connection's protocol profile carries in messages, not in control frames.

websockets answers RFC 6455 pings in its protocol layer (and :mod:`.recording` sees those
frames). Frameworks such as Socket.IO beat in *messages* instead: Engine.IO's server sends
``2`` and waits for ``3``; graphql-ws answers a ``{"type": "ping"}`` message with
``{"type": "pong"}``. This module does for them what websockets does for control frames,
with the same records, so every heartbeat check reads one timeline whatever the profile:

- :func:`take_heartbeat`: a message from the server that is the profile's heartbeat is
  recorded ``ping received`` and answered (``pong sent``), or left unanswered while the client
  plays ``no-pong`` (``pong suppressed``). It never reaches the message queue. A ``frozen``
  client reads nothing, so it answers nothing, as with control frames.
- :func:`client_ping_round`: one round of the client's own heartbeat, an RFC 6455 ping or
  the profile's ping message (graphql-ws), timed to its answer.
- :func:`watch_server_pings`: for a profile whose client may not ping at all (Engine.IO v4
  closes a client that sends ``2``), the client watches the server's pings instead and
  flags the server unresponsive when none comes within the announced ``pingInterval +
  pingTimeout``, which is socket.io-client's own rule.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

from websockets.exceptions import ConnectionClosed

from wsresilience.core.client.recording import Behaviour

if TYPE_CHECKING:
    from wsresilience.core.client.connection import ObservedConnection


async def take_heartbeat(conn: ObservedConnection, message: str | bytes) -> bool:
    """Handle ``message`` if it is heartbeat traffic of ``conn``'s profile; return whether it was.

    The server's heartbeat is recorded and answered (or suppressed); the answer to the
    client's own application ping resolves the round waiting for it.
    """
    profile = conn.profile
    answer = profile.heartbeat_answer(message)
    if answer is not None:
        conn.record("ping received", "heartbeat message")
        if conn.behaviour is Behaviour.NO_PONG:
            conn.record("pong suppressed")
            return True
        assert conn.ws is not None
        with contextlib.suppress(ConnectionClosed):
            await conn.ws.send(answer)
            conn.record("pong sent")
        return True
    if profile.is_client_pong(message):
        waiting = conn.client_pong
        if waiting is not None and not waiting.done():
            waiting.set_result(time.monotonic())
        return True
    return False


async def client_ping_round(conn: ObservedConnection) -> asyncio.Future[Any]:
    """Send one client heartbeat ping; return the future its answer resolves.

    An RFC 6455 ping (websockets matches the pong) unless the profile pings with a message
    (graphql-ws ``{"type": "ping"}``), whose answer :func:`take_heartbeat` recognises.
    Raises ``ConnectionClosed`` when the connection is gone.
    """
    assert conn.ws is not None
    message = conn.profile.client_ping()
    if message is None:
        return await conn.ws.ping()
    conn.client_pong = asyncio.get_running_loop().create_future()
    await conn.ws.send(message)
    return conn.client_pong


async def watch_server_pings(conn: ObservedConnection, limit: float) -> None:
    """Flag the server unresponsive when no server ping comes within ``limit`` seconds of the
    last one (or of the start); stop when the connection ends. A frozen client reads nothing,
    so its silence clock restarts instead of flagging the server."""
    last = time.monotonic()
    while conn.terminated_at is None:
        before = conn.events.count("ping received")
        got = await conn.wait_for(
            lambda before=before: conn.events.count("ping received") > before or conn.terminated_at is not None,
            max(0.0, last + limit - time.monotonic()),
        )
        if conn.terminated_at is not None:
            return
        if got or conn.behaviour is Behaviour.FROZEN:
            last = time.monotonic()
            continue
        conn.server_unresponsive_at = time.monotonic()
        conn.record("server unresponsive", f"no server ping within {limit * 1000:.0f} ms "
                                           "(the announced pingInterval + pingTimeout)")
        return
