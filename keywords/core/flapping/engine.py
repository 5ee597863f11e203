"""Flapping clients: connect, hold, disconnect, wait, again, many clients at once.

:func:`flap` runs a :class:`FlapPlan` on the running event loop and returns a
:class:`FlapResult` with one :class:`Cycle` per attempt. Each client is a bare
``websockets`` connection per cycle (no recording wrapper: flapping is about churn, and
the library has to keep up with bare ``websockets``).

Each connection follows the plan's protocol profile (:mod:`wsresilience.core.profiles`): its
URL and subprotocols, then its application handshake with the client's auth payload
(:mod:`wsresilience.core.flapping.session`); while held, the server's application heartbeats
are answered, so a held client is never a zombie.

A cycle succeeds when the opening handshake completes (the profile's included), the client
authenticates (reference protocol, when it has a token), and the server keeps the
connection for the whole connected time. Anything
else is a failure with a short cause (``connection refused``, ``HTTP 503``, ``auth refused:
reconnect-throttled``, ``dropped by server: 1011``…), so failures group by cause.

A failure no reconnect can heal (an open error that
:func:`~wsresilience.core.client.open_errors.is_permanent` calls permanent: an invalid URL,
an unknown host, an untrusted certificate, an HTTP 4xx answer to the upgrade) stops the
whole run at once: every client stops, :attr:`FlapResult.stopped_by` is the cycle that met
it, with the error described in one line. Flapping on would only repeat it hundreds of
times, and a run cut short must not be read as a run.

A message over the client's own size limit (``FlapPlan.max_message_size``) makes the
client close with 1009; the cycle's cause then names the client's limit, not the server.

Disconnects are ``graceful`` (close handshake) or ``abort``: SO_LINGER 0 and an aborted
transport, so the kernel sends a TCP reset and the server sees no close frame at all.
Jitter scales every connected and disconnected time by a factor drawn uniformly from
``[1 - jitter, 1 + jitter]`` with a random generator seeded per client, so a run repeats.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import ssl
import struct
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.protocol import State as WsState

from wsresilience.core.client.limits import client_close_description
from wsresilience.core.client.open_errors import describe_open_error, is_permanent
from wsresilience.core.flapping.plan import Cycle, Disconnect, FlapPlan, FlapResult
from wsresilience.core.flapping.session import ask_agent, hold, profile_handshake

__all__ = ["Cycle", "Disconnect", "FlapPlan", "FlapResult", "flap", "open_client", "authenticate"]


def classify_open_error(exc: BaseException, timeout: float | None = None) -> str:
    """A short, groupable cause for a failed opening handshake (``timeout``: the seconds
    the handshake was given, which a timeout names)."""
    if isinstance(exc, InvalidStatus):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, InvalidURI):
        return "invalid URL"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset during handshake"
    if isinstance(exc, TimeoutError):
        return f"handshake timeout ({timeout:g} s)" if timeout is not None else "handshake timeout"
    if isinstance(exc, ssl.SSLError):
        return "TLS failure"
    if isinstance(exc, InvalidHandshake):
        return f"handshake failed: {type(exc).__name__}"
    if isinstance(exc, OSError):
        return f"network error: {exc.strerror or type(exc).__name__}"
    return f"open failed: {type(exc).__name__}"


def _closed_cause(ws: ClientConnection, during: str) -> str:
    protocol = ws.protocol
    sent = protocol.close_sent
    if sent is not None and not protocol.close_rcvd_then_sent:  # the client failed it first
        return f"closed by the client {during}: " + client_close_description(
            sent.code, sent.reason, protocol.max_message_size)
    code = ws.protocol.close_code
    reason = ws.protocol.close_reason
    if code is None:
        return f"dropped by server {during}: no close frame"
    return f"dropped by server {during}: {code}{' ' + reason if reason else ''}"


async def open_client(plan: FlapPlan) -> ClientConnection:
    """Open one lightweight client connection as the plan says."""
    kwargs: dict[str, Any] = {}
    if plan.ssl_context is not None:
        kwargs["ssl"] = plan.ssl_context
    if plan.profile.subprotocols:
        kwargs["subprotocols"] = list(plan.profile.subprotocols)
    return await connect(
        plan.profile.connect_url(plan.url),
        open_timeout=plan.open_timeout,
        close_timeout=plan.close_timeout,
        max_size=plan.max_message_size,
        ping_interval=None,
        compression=None,
        proxy=None,
        user_agent_header="robotframework-wsresilience flapping",
        **kwargs,
    )


async def authenticate(ws: ClientConnection, token: str, timeout: float) -> tuple[str | None, str]:
    """Send the ``auth`` message; return ``(agent_id, "")`` or ``(None, cause)``."""
    await ws.send(json.dumps({"type": "auth", "token": token}))
    async with asyncio.timeout(timeout):
        raw = await ws.recv()
    try:
        reply = json.loads(raw)
    except (TypeError, ValueError):
        return None, "auth refused: reply is not JSON"
    if not isinstance(reply, dict):
        return None, "auth refused: reply is not a JSON object"
    if reply.get("type") == "auth-ok":
        agent = reply.get("agent_id")
        return (str(agent) if agent is not None else None), ""
    return None, f"auth refused: {reply.get('code') or reply.get('type') or 'unknown reply'}"


def abort_with_reset(ws: ClientConnection) -> None:
    """Drop the TCP connection with a reset: SO_LINGER 0, then abort (no close frame, no FIN)."""
    transport = ws.transport
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass  # already closed: nothing left to reset
    transport.abort()


async def run_cycle(plan: FlapPlan, client: int, index: int, token: str | None, hold_for: float) -> Cycle:
    """One cycle: open (the profile's handshake included), authenticate if a token is given,
    ask for the agent when the plan says so, hold ``hold_for`` seconds, disconnect."""
    cycle = Cycle(client, index, time.monotonic())
    try:
        ws = await open_client(plan)
    except Exception as exc:
        cycle.cause = classify_open_error(exc, plan.open_timeout)
        if is_permanent(exc):
            cycle.permanent = True
            cycle.error = describe_open_error(exc, plan.url, plan.open_timeout)
        cycle.ended = time.monotonic()
        return cycle
    try:
        cause = await _start_session(plan, ws, cycle, token)
        if cause:
            cycle.cause = cause
            return cycle
        remaining = hold_for - (time.monotonic() - cycle.started - (cycle.handshake_ms or 0) / 1000)
        if remaining > 0:
            cycle.heartbeats = await hold(ws, plan.profile, remaining)
        if ws.protocol.state is not WsState.OPEN or ws.transport.is_closing():
            cycle.cause = _closed_cause(ws, "during the connected time")
            return cycle
        cycle.ok = True
        return cycle
    finally:
        if plan.disconnect is Disconnect.ABORT:
            abort_with_reset(ws)
            await ws.wait_closed()
        else:
            try:
                await ws.close()
            except Exception:  # the server dropped it first: nothing to close
                abort_with_reset(ws)
        cycle.ended = time.monotonic()


async def _start_session(plan: FlapPlan, ws: ClientConnection, cycle: Cycle, token: str | None) -> str:
    """After the WebSocket handshake: the profile's handshake (timed into ``handshake_ms``),
    the reference ``auth`` (``auth_ms``) and the agent question; the cause of a failure or ``""``."""
    during = "during the handshake"
    try:
        _, cause = await profile_handshake(ws, plan.profile, plan.auth_of(cycle.client), plan.open_timeout)
        opened = time.monotonic()
        cycle.handshake_ms = (opened - cycle.started) * 1000
        if cause:
            return cause
        if token is not None and plan.profile.reference_protocol:
            during = "while authenticating"
            try:
                agent_id, cause = await authenticate(ws, token, plan.open_timeout)
            except TimeoutError:
                agent_id, cause = None, f"auth timeout ({plan.open_timeout:g} s)"
            cycle.auth_ms = (time.monotonic() - opened) * 1000
            cycle.agent_id = agent_id
            if cause:
                return cause
        if plan.agents is not None:
            during = "while asking for the agent"
            reply = await ask_agent(ws, plan.profile, plan.agents, plan.open_timeout)
            if reply is None:
                return f"no {plan.agents.reply_event!r} reply within {plan.open_timeout:g} s (agent convention)"
            cycle.agent_id, cycle.agents = reply.agent_id, reply.count
        return ""
    except ConnectionClosed:
        return _closed_cause(ws, during)


async def run_client(plan: FlapPlan, client: int, result: FlapResult) -> None:
    """Client ``client``'s cycles, appended to ``result`` as they end."""
    rng = random.Random(f"{plan.seed}:{client}")
    token = plan.tokens[client % len(plan.tokens)] if plan.tokens else None

    def jittered(seconds: float) -> float:
        return seconds * rng.uniform(1 - plan.jitter, 1 + plan.jitter) if plan.jitter else seconds

    for index in range(plan.cycles):
        cycle = await run_cycle(plan, client, index, token, jittered(plan.connected))
        result.cycles.append(cycle)
        if cycle.permanent:
            raise _Stopped(cycle)
        if index < plan.cycles - 1:
            pause = jittered(plan.disconnected)
            if pause > 0:
                await asyncio.sleep(pause)  # the planned disconnected time, not a synchronisation
            else:
                await asyncio.sleep(0)


class _Stopped(Exception):
    """A client met a permanent open error: the run stops (carries the cycle)."""

    def __init__(self, cycle: Cycle) -> None:
        super().__init__(cycle.error)
        self.cycle = cycle


async def flap(plan: FlapPlan, result: FlapResult | None = None) -> FlapResult:
    """Run ``plan`` on the current loop; ``result`` (if given) fills in as cycles end.

    The first permanent open error stops every client (their cycles in progress are
    cancelled, their connections closed) and is kept in ``result.stopped_by``.
    """
    result = result or FlapResult(plan, time.monotonic())
    result.started = time.monotonic()
    clients = [asyncio.ensure_future(run_client(plan, i, result)) for i in range(plan.clients)]
    try:
        await asyncio.gather(*clients)
    except _Stopped as stop:
        result.stopped_by = stop.cycle
    finally:
        for task in clients:
            task.cancel()
        await asyncio.gather(*clients, return_exceptions=True)
        result.ended = time.monotonic()
    return result
