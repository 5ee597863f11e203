"""Flapping clients: connect, hold, disconnect, wait, again, many clients at once.

:func:`flap` runs a :class:`FlapPlan` on the running event loop and returns a
:class:`FlapResult` with one :class:`Cycle` per attempt. Each client is a bare
``websockets`` connection per cycle (no recording wrapper: flapping is about churn, and
the library has to keep up with bare ``websockets``).

A cycle succeeds when the opening handshake completes, the client authenticates (when it
has a token), and the server keeps the connection for the whole connected time. Anything
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
import enum
import json
import random
import socket
import ssl
import struct
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.protocol import State as WsState

from wsresilience.core.client.limits import DEFAULT_MAX_MESSAGE_SIZE, client_close_description
from wsresilience.core.client.open_errors import describe_open_error, is_permanent
from wsresilience.core.runtime.choices import parse_choice
from wsresilience.core.stats import LatencyStats


class Disconnect(enum.StrEnum):
    """How a flapping client leaves."""

    GRACEFUL = "graceful"
    ABORT = "abort"

    @classmethod
    def parse(cls, value: str | Disconnect) -> Disconnect:
        """A disconnect mode from its name, failing with the list of known names."""
        return parse_choice(cls, value, "disconnect mode")


@dataclass(frozen=True)
class FlapPlan:
    """What to run: ``clients`` concurrent clients, each doing ``cycles`` cycles.

    Times are seconds. ``tokens`` are sent as the first message (``{"type": "auth"}``),
    client ``i`` using ``tokens[i % len(tokens)]``; empty means plain connections.
    ``max_message_size`` is the largest message a client accepts, in bytes.
    """

    url: str
    clients: int = 10
    cycles: int = 50
    connected: float = 0.1
    disconnected: float = 0.05
    jitter: float = 0.0
    seed: int = 0
    disconnect: Disconnect = Disconnect.GRACEFUL
    tokens: Sequence[str] = field(default=(), repr=False)
    open_timeout: float = 5.0
    close_timeout: float = 2.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)
    max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE

    def __post_init__(self) -> None:
        if self.clients < 1 or self.cycles < 1:
            raise ValueError(f"Expected at least 1 client and 1 cycle, got {self.clients} and {self.cycles}.")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"Jitter must be a fraction in [0, 1), got {self.jitter}.")
        if self.connected < 0 or self.disconnected < 0:
            raise ValueError("Connected and disconnected times must not be negative.")

    @property
    def authenticated(self) -> bool:
        """Whether clients authenticate."""
        return bool(self.tokens)

    @property
    def time_budget(self) -> float:
        """Seconds a whole run may take: three times its planned cycles, plus one open and close.

        Generous on purpose: it bounds a run that hangs, it does not judge a slow one.
        """
        per_cycle = (self.connected + self.disconnected) * (1 + self.jitter)
        return self.cycles * per_cycle * 3 + self.open_timeout + self.close_timeout + 10


@dataclass
class Cycle:
    """One connect–hold–disconnect attempt of one client."""

    client: int
    index: int
    started: float
    handshake_ms: float | None = None
    auth_ms: float | None = None
    agent_id: str | None = None
    ok: bool = False
    cause: str = ""
    ended: float = 0.0
    #: The open failed for a reason no reconnect can heal; ``error`` says it in one line.
    permanent: bool = False
    error: str = ""


@dataclass
class FlapResult:
    """Every cycle of a run, and the figures a report needs."""

    plan: FlapPlan
    started: float
    ended: float = 0.0
    cycles: list[Cycle] = field(default_factory=list)
    #: The cycle whose permanent open error stopped the run (None: the run went to the end).
    stopped_by: Cycle | None = None

    @property
    def attempts(self) -> int:
        """Cycles attempted."""
        return len(self.cycles)

    @property
    def successes(self) -> int:
        """Cycles that connected, authenticated when asked, and held."""
        return sum(1 for c in self.cycles if c.ok)

    @property
    def success_rate(self) -> float:
        """Successful cycles, in percent of attempts (NaN when nothing was attempted)."""
        return 100.0 * self.successes / self.attempts if self.attempts else float("nan")

    @property
    def duration(self) -> float:
        """Seconds from the first connect to the last disconnect."""
        return max(0.0, self.ended - self.started)

    @property
    def cycles_per_s(self) -> float:
        """Attempt rate: cycles attempted per second of the run."""
        return self.attempts / self.duration if self.duration > 0 else float("nan")

    @property
    def handshakes(self) -> LatencyStats:
        """Opening-handshake latency of every cycle that got that far, in ms."""
        return LatencyStats.of([c.handshake_ms for c in self.cycles if c.handshake_ms is not None])

    @property
    def auths(self) -> LatencyStats:
        """Authentication round trip (auth sent → auth-ok) in ms, when clients authenticate."""
        return LatencyStats.of([c.auth_ms for c in self.cycles if c.auth_ms is not None])

    @property
    def failures_by_cause(self) -> dict[str, int]:
        """Failed cycles grouped by cause, most frequent first."""
        return dict(Counter(c.cause for c in self.cycles if not c.ok).most_common())

    def describe_failures(self) -> str:
        """Failed cycles by cause in one line: ``HTTP 503 ×4, auth timeout (5 s) ×1``."""
        return ", ".join(f"{cause} ×{count}" for cause, count in self.failures_by_cause.items())

    def agent_ids_by_client(self) -> dict[int, set[str]]:
        """Agent ids each client was given by ``auth-ok`` across its cycles."""
        seen: dict[int, set[str]] = {}
        for c in self.cycles:
            if c.agent_id is not None:
                seen.setdefault(c.client, set()).add(c.agent_id)
        return seen


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
    return await connect(
        plan.url,
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


async def run_cycle(plan: FlapPlan, client: int, index: int, token: str | None, hold: float) -> Cycle:
    """One cycle: open, authenticate if a token is given, hold ``hold`` seconds, disconnect."""
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
    opened = time.monotonic()
    cycle.handshake_ms = (opened - cycle.started) * 1000
    try:
        if token is not None:
            try:
                agent_id, cause = await authenticate(ws, token, plan.open_timeout)
            except TimeoutError:
                agent_id, cause = None, f"auth timeout ({plan.open_timeout:g} s)"
            except ConnectionClosed:
                agent_id, cause = None, _closed_cause(ws, "while authenticating")
            cycle.auth_ms = (time.monotonic() - opened) * 1000
            cycle.agent_id = agent_id
            if cause:
                cycle.cause = cause
                return cycle
        remaining = hold - (time.monotonic() - opened)
        if remaining > 0:
            try:
                async with asyncio.timeout(remaining):
                    await ws.wait_closed()
            except TimeoutError:
                pass  # held for the whole connected time, as planned
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
