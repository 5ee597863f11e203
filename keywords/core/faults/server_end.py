"""How the server ended a proxied connection, as the in-process proxy saw it.

Behind a blackhole the client sees nothing, so it cannot tell when the server gave up.
The proxy can: its upstream socket is the server's peer. Every connection's downstream
link (server to client) notes the loop time of the server's first close frame, FIN and
RST, even while a toxic keeps them from the client (``wsresilience.faultproxy.connection.Link.peer_ends``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from wsresilience.faultproxy.connection import Connection


@dataclass(frozen=True)
class ServerEnd:
    """What one connection's server side did after ``since`` (loop time)."""

    since: float
    signals: dict[str, float]  # "close frame" / "FIN" / "RST" -> loop time first seen
    closed_by_proxy: str  # "", or how the proxy itself closed it first ("reset", "close", "abort")
    held_bytes: int  # server bytes the proxy did not pass on (dropped or still queued)

    @property
    def first(self) -> tuple[str, float] | None:
        """The server's earliest signal and its time, if any."""
        if not self.signals:
            return None
        how = min(self.signals, key=self.signals.__getitem__)
        return how, self.signals[how]

    @property
    def took(self) -> float | None:
        """Seconds from ``since`` to the server's first signal."""
        first = self.first
        return None if first is None else first[1] - self.since

    def describe(self) -> str:
        """One phrase: ``close frame after 0.912 s, then FIN (+0.001 s)``."""
        first = self.first
        if first is None:
            return f"closed by the proxy ({self.closed_by_proxy})" if self.closed_by_proxy else "nothing"
        how, at = first
        later = [f"{h} (+{t - at:.3f} s)" for h, t in sorted(self.signals.items(), key=lambda i: i[1])
                 if h != how]
        return f"{how} after {at - self.since:.3f} s" + (f", then {', '.join(later)}" if later else "")


def server_end(conn: Connection, since: float) -> ServerEnd:
    """The server side of ``conn`` as observed so far."""
    link = conn.links["downstream"]
    signals = dict(link.peer_ends)
    proxy_closed = conn.how_closed if conn.closed and not signals else ""
    return ServerEnd(since, signals, proxy_closed, max(0, link.bytes_in - link.bytes_out))


def ended(conn: Connection) -> bool:
    """Whether the server has ended ``conn`` or the connection is gone."""
    return bool(conn.links["downstream"].peer_ends) or conn.closed


async def wait_server_ends(conns: list[Connection], deadline: float) -> None:
    """Wait until every connection has a server end (or is gone), or ``deadline`` (loop time).

    Wakes on each connection's ``changed`` event; never raises on timeout: the caller
    judges what was seen.
    """
    loop = asyncio.get_running_loop()
    while not all(ended(c) for c in conns):
        remaining = deadline - loop.time()
        if remaining <= 0:
            return
        pending = [c for c in conns if not ended(c)]
        for c in pending:
            c.changed.clear()
        if all(ended(c) for c in conns):
            return
        waiters = [asyncio.ensure_future(c.changed.wait()) for c in pending]
        try:
            await asyncio.wait(waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
