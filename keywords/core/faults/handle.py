"""A proxy the library created, as every component sees it through the shared context."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from faultproxy.connection import Connection

from keywords.core.faults.backends import Backend


@dataclass(eq=False)
class ProxyHandle:
    """One proxy: its name, the URL clients connect to, and the backend that runs it.

    ``faulted_at`` is the loop time the latest fault was added and ``faulted`` the
    connections open at that moment (what a fault's clock applies to).
    """

    name: str
    url: str
    listen: str
    upstream: str
    target: str
    backend: Backend
    faulted_at: float | None = None
    faulted: list[Connection] = field(default_factory=list)

    def serves(self, url: str) -> bool:
        """Whether ``url`` points at this proxy's listening address."""
        return same_endpoint(self.url, url)

    async def reset_connections(self) -> int | None:
        """Cut every connection through this proxy with a TCP reset (the network failing)."""
        return await self.backend.reset_connections(self.name)


def same_endpoint(url: str, candidate: str) -> bool:
    """Whether two URLs name the same host and port."""
    try:
        a, b = urlsplit(url), urlsplit(candidate)
        return bool(b.hostname) and (a.hostname, a.port) == (b.hostname, b.port)
    except ValueError:
        return False
