"""Loop-side actions and waits on observed connections, for the heartbeat keywords.

Every function here runs on the event loop, does one thing to or with
:class:`~wsresilience.core.client.connection.ObservedConnection` objects, and returns what
happened as data: a count, a time, the connections that ended. None of them decides whether
that is a pass or a failure, and none words a failure: the keyword component does both,
from these results, in Robot's thread. Only an error that means "could not even try" (an
:class:`~wsresilience.errors.OpenFailed` when opening) propagates.

Times are ``time.monotonic()`` seconds, the clock the connection's events are stamped with.
Bounds measured from a moment the loop recorded (a connection going silent, the server
being cut off) are computed here, on the loop, right before waiting, so the wait ends as
close as possible to the moment the bound runs out.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Callable, Sequence
from typing import Any

from wsresilience.core.client.connection import Behaviour, ObservedConnection
from wsresilience.core.client.limits import DEFAULT_MAX_MESSAGE_SIZE
from wsresilience.core.profiles import ProtocolProfile
from wsresilience.core.runtime.loop import gather_settled


async def open_connections(
    url: str,
    names: Sequence[str],
    behaviour: Behaviour,
    timeout: float,
    ssl_context: ssl.SSLContext | None = None,
    source_address: str | None = None,
    max_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
    profile: ProtocolProfile | None = None,
    auth_for: Callable[[str], dict[str, Any] | None] = lambda name: None,
    secrets: Sequence[str] = (),
) -> list[ObservedConnection]:
    """Open one connection per name concurrently, each then switched to ``behaviour``;
    each accepts messages of up to ``max_size`` bytes.

    Each speaks ``profile`` (default: the reference protocol), with ``auth_for(name)`` as
    its handshake's auth payload; ``secrets`` are masked in what the connections record.

    All or nothing: if any fails to open, the others are closed and the first failure
    (an :class:`~wsresilience.errors.OpenFailed` saying why in one line) is raised.
    """
    conns = [ObservedConnection(name, url, profile, auth_for(name)) for name in names]
    for c in conns:
        c.secrets = list(secrets)
    results = await gather_settled(*(c.open(timeout, ssl_context, source_address, max_size=max_size)
                                     for c in conns))
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        await close_connections(conns)
        raise failures[0]
    for c in conns:
        c.set_behaviour(behaviour)
    return conns


async def close_connections(conns: Sequence[ObservedConnection]) -> None:
    """Close every connection at once (frozen or terminated ones are aborted); never raises."""
    await gather_settled(*(c.close() for c in conns))


def set_behaviours(conns: Sequence[ObservedConnection], behaviour: Behaviour) -> None:
    """Switch every connection to ``behaviour`` (starting or stopping its silence clock)."""
    for c in conns:
        c.set_behaviour(behaviour)


def start_client_heartbeats(conns: Sequence[ObservedConnection], interval: float, timeout: float) -> None:
    """Start each connection's own heartbeat: a ping every ``interval``, a pong due within
    ``timeout``."""
    for c in conns:
        c.start_heartbeat(interval, timeout)


def mark_server_silenced(conn: ObservedConnection, at: float) -> None:
    """Start the server-silence clock of ``conn`` at monotonic time ``at`` (taken by the
    caller, the moment it cut the server off)."""
    conn.server_silenced_at = at


async def wait_for_server_pings(conn: ObservedConnection, count: int, timeout: float) -> int:
    """Wait until ``conn`` has received ``count`` server pings in total, is terminated, or
    ``timeout`` passes; return how many pings it has received."""
    await conn.wait_for(
        lambda: conn.events.count("ping received") >= count or conn.terminated_at is not None,
        timeout,
    )
    return conn.events.count("ping received")


async def hold_next_ping(conn: ObservedConnection, wait_ping: float, hold: float) -> float | None:
    """Leave the next server ping unanswered for ``hold`` seconds, then answer it.

    The connection freezes (stops reading), waits up to ``wait_ping`` for a server ping to
    arrive unread, keeps it waiting ``hold`` seconds after its arrival (or until the server
    terminates the connection), then reads again, which answers it. Returns the seconds
    the ping waited, or ``None`` if no ping came. The connection is responsive afterwards
    either way.
    """
    conn.set_behaviour(Behaviour.FROZEN)
    before = conn.events.count("ping received")
    got = await conn.wait_for(
        lambda: conn.events.count("ping received") > before or conn.terminated_at is not None,
        wait_ping,
    )
    latest = conn.events.last("ping received")
    if not got or latest is None:
        conn.set_behaviour(Behaviour.RESPONSIVE)
        return None
    arrived = latest.t
    await conn.wait_for(lambda: conn.terminated_at is not None, max(0.0, arrived + hold - time.monotonic()))
    conn.set_behaviour(Behaviour.RESPONSIVE)
    return time.monotonic() - arrived


async def wait_for_first_termination(
    conns: Sequence[ObservedConnection], window: float
) -> list[ObservedConnection]:
    """Watch ``conns`` for ``window`` seconds, returning early at the first termination.

    Returns the connections the server had terminated by then (empty if none was).
    """
    if not conns:
        return []
    waits = [asyncio.ensure_future(c.wait_for(lambda c=c: c.terminated_at is not None, window))
             for c in conns]
    deadline = time.monotonic() + window
    pending: set[asyncio.Future[bool]] = set(waits)
    try:
        while pending and time.monotonic() < deadline:
            _, pending = await asyncio.wait(
                pending, timeout=deadline - time.monotonic(), return_when=asyncio.FIRST_COMPLETED
            )
            if any(c.terminated_at is not None for c in conns):
                break
    finally:
        for w in pending:
            w.cancel()
    return [c for c in conns if c.terminated_at is not None]


async def wait_for_termination(conn: ObservedConnection, bound: float) -> None:
    """Wait until the server terminates ``conn``, at most ``bound`` seconds after it went
    silent (not at all if it is not silent, or the bound has passed)."""
    await _wait_after(conn, conn.silent_since, bound, lambda: conn.terminated_at is not None)


async def settle_zombies(
    silent: Sequence[ObservedConnection], healthy: Sequence[ObservedConnection], bound: float
) -> None:
    """Give the server its chance to terminate exactly the ``silent`` connections.

    First waits until every silent connection is terminated or ``bound`` has passed since
    the last of them went silent; then watches the ``healthy`` ones for one more ``bound``,
    so that a late false positive is seen too.
    """
    starts = [c.silent_since for c in silent if c.silent_since is not None]
    deadline = max(starts, default=time.monotonic()) + bound
    await gather_settled(*(
        c.wait_for(lambda c=c: c.terminated_at is not None, max(0.0, deadline - time.monotonic()))
        for c in silent
    ))
    await gather_settled(*(c.wait_for(lambda c=c: c.terminated_at is not None, bound) for c in healthy))


async def request_stop_answering(conn: ObservedConnection, duration: float, reply_within: float = 2.0) -> str | None:
    """Ask the reference server to stop answering ``conn`` for ``duration`` seconds.

    Sends the test control ``{"type": "control", "action": "stop-answering"}`` (see
    docs/protocol.md) after discarding messages already received, and starts the
    server-silence clock (``conn.server_silenced_at``) at the moment it is sent. Returns
    the server's text reply, or ``None`` if none came within ``reply_within`` seconds
    (whether the reply is an acknowledgement is for the caller to judge).
    """
    request = {"type": "control", "action": "stop-answering", "seconds": duration}
    while not conn.messages.empty():
        conn.messages.get_nowait()
    sent = time.monotonic()
    await conn.send(json.dumps(request))
    conn.server_silenced_at = sent
    try:
        reply = await conn.receive(reply_within)
    except TimeoutError:
        return None
    return reply if isinstance(reply, str) else None


async def wait_for_server_unresponsive(conn: ObservedConnection, bound: float) -> None:
    """Wait until the client heartbeat flags the server unresponsive, at most ``bound``
    seconds after the server was cut off (``conn.server_silenced_at``)."""
    await _wait_after(conn, conn.server_silenced_at, bound, lambda: conn.server_unresponsive_at is not None)


async def _wait_after(conn: ObservedConnection, since: float | None, bound: float,
                      done: Callable[[], bool]) -> None:
    """Wait until ``done()``, at most until ``bound`` seconds after ``since`` (a monotonic
    time); not at all without a ``since``, nor once that moment has passed."""
    if since is None:
        return
    await conn.wait_for(done, max(0.0, since + bound - time.monotonic()))


def rtt_samples(conns: Sequence[ObservedConnection]) -> list[list[float]]:
    """Each connection's client-heartbeat round-trip times so far (ms), in the order of
    ``conns``. Call on the loop: ``ctx.call(rtt_samples, conns)``."""
    return [c.rtt_samples() for c in conns]
