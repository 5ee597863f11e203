"""What a flapping client does on its connection, per protocol profile.

A flapping cycle opens a bare ``websockets`` connection; what happens on it depends on what
the service speaks (:mod:`wsresilience.core.profiles`):

- :func:`profile_handshake`: the profile's application handshake (Socket.IO's open packet and
  ``CONNECT`` with the client's ``auth``; graphql-ws ``connection_init`` / ``connection_ack``)
  over a :class:`~wsresilience.core.profiles.BareChannel`. A refusal, a timeout or a close
  comes back as a short cause (``Socket.IO CONNECT refused: invalid token``), so failed cycles
  group by cause like every other failure.
- :func:`ask_agent`: the agent convention (:class:`AgentConvention`, docs/profiles.md): the
  client emits one of the service's own events and the service answers with the agent that
  serves this user and how many agent instances it holds for the user.
- :func:`hold`: keep the connection for the connected time, *reading*: the server's
  application heartbeats (Engine.IO ``2``) are answered as they come
  (:meth:`~wsresilience.core.profiles.ProtocolProfile.heartbeat_answer`), so a held client is
  never a zombie. RFC 6455 pings are answered by websockets itself.

These functions raise nothing for what the server does: they return what happened, and the
engine (:mod:`wsresilience.core.flapping.engine`) turns it into the cycle's verdict.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from wsresilience.core.profiles import BareChannel, Handshake, HandshakeRefused, ProtocolProfile


@dataclass(frozen=True)
class AgentConvention:
    """How a service with agents tells a client about them, through its own events.

    The client emits ``ask_event`` (no arguments); the service answers with ``reply_event``
    whose first argument is an object holding ``id_field`` (the agent serving this user) and
    ``count_field`` (how many agent instances the service holds for this user right now; 1
    on a healthy service). Defaults: emit ``agent``, answer ``agent``
    ``{"agent_id": …, "agents": …}``. Every name is a suite variable (docs/profiles.md).
    """

    ask_event: str = "agent"
    reply_event: str = "agent"
    id_field: str = "agent_id"
    count_field: str = "agents"

    def describe(self) -> str:
        """The convention in one line, for failures and skips."""
        return (f"emit {self.ask_event!r}, answered by {self.reply_event!r} "
                f"{{{self.id_field!r}, {self.count_field!r}}}")


@dataclass(frozen=True)
class AgentReply:
    """What the service said of the client's agent: its id and the user's agent count."""

    agent_id: str | None
    count: float | None


async def profile_handshake(ws: ClientConnection, profile: ProtocolProfile, auth: dict[str, Any] | None,
                            timeout: float) -> tuple[Handshake | None, str]:
    """Run ``profile``'s application handshake on ``ws``; ``(handshake, "")`` or ``(None, cause)``.

    The cause names the profile's refusal as the service worded it, or a timeout; a close by
    the server is left for the caller to word (it knows the connection's close code).
    """
    try:
        return await profile.handshake(BareChannel(ws), auth, timeout), ""
    except HandshakeRefused as refused:
        return None, str(refused)
    except TimeoutError:
        return None, f"{profile.name} handshake timeout ({timeout:g} s)"


async def ask_agent(ws: ClientConnection, profile: ProtocolProfile, convention: AgentConvention,
                    timeout: float) -> AgentReply | None:
    """Emit the convention's ask event; the service's reply, or ``None`` when none came within
    ``timeout`` (heartbeats in between are answered). Raises ``ConnectionClosed``."""
    ask = profile.emit(convention.ask_event)
    if ask is None:
        raise ValueError(f"The {profile.name} profile has no named events: the agent convention needs them.")
    await ws.send(ask)
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = await asyncio.wait_for(ws.recv(), left)
        except TimeoutError:
            return None
        answer = profile.heartbeat_answer(message)
        if answer is not None:
            await ws.send(answer)
            continue
        event = profile.event_in(message)
        if event is not None and event[0] == convention.reply_event:
            body = event[1][0] if event[1] and isinstance(event[1][0], dict) else {}
            agent, count = body.get(convention.id_field), body.get(convention.count_field)
            return AgentReply(None if agent is None else str(agent),
                              float(count) if isinstance(count, int | float) else None)
    return None


async def hold(ws: ClientConnection, profile: ProtocolProfile, seconds: float) -> int:
    """Keep ``ws`` for ``seconds``, answering the server's application heartbeats; return how
    many were answered. Returns early when the connection closes (the caller checks)."""
    answered = 0
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = await asyncio.wait_for(ws.recv(), left)
            except TimeoutError:
                break  # held for the whole connected time, as planned
            answer = profile.heartbeat_answer(message)
            if answer is not None:
                await ws.send(answer)
                answered += 1
    except ConnectionClosed:
        pass  # the caller reads why from the connection
    return answered
