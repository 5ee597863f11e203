"""A proxy the library created, as every component sees it through the shared context.

A :class:`ProxyHandle` is what ``ctx.proxies`` holds: the proxy's name, the URL clients
connect to, and the backend that runs it. Its coroutine methods are the loop-side actions
the keywords need (add faults and start the fault clock, list or remove them, watch how the
server ends connections); they return data and never word a failure, the keywords do.

:func:`find_proxy` is the one look-up: by name, else by the URL a client was given.
:func:`upstream_of` and :func:`client_url` are the one way from a target URL to what a new
proxy connects to, and back to the URL its clients use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from wsresilience.faultproxy.connection import Connection

from wsresilience.core.faults.backends import Backend, InProcessBackend
from wsresilience.core.faults.server_end import ServerEnd, server_end, wait_server_ends
from wsresilience.core.masking import mask_url
from wsresilience.core.runtime.registry import Registry


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

    @property
    def where(self) -> str:
        """``proxy 'name' (in-process)``: how failures name this proxy."""
        return f"proxy {self.name!r} ({self.backend.where})"

    @property
    def in_process(self) -> bool:
        """Whether the proxy runs in this process (and can see how the server ends connections)."""
        return isinstance(self.backend, InProcessBackend)

    def serves(self, url: str) -> bool:
        """Whether ``url`` points at this proxy's listening address."""
        return same_endpoint(self.url, url)

    async def reset_connections(self) -> int | None:
        """Cut every connection through this proxy with a TCP reset (the network failing)."""
        return await self.backend.reset_connections(self.name)

    async def add_faults(self, toxics: Iterable[dict[str, Any]]) -> list[str]:
        """Add ``toxics`` and start the fault clock; returns their names as the backend has them.

        The clock is the loop time (that of ``faultproxy``'s ``Link.peer_ends``), and the
        connections it applies to are those open through the proxy now (in-process only).
        """
        names = [str((await self.backend.add(self.name, toxic))["name"]) for toxic in toxics]
        self.faulted_at = asyncio.get_running_loop().time()
        if isinstance(self.backend, InProcessBackend):
            self.faulted = self.backend.open_connections(self.name)
        return names

    async def faults(self) -> list[dict[str, Any]]:
        """The proxy's toxics as Toxiproxy shows them."""
        return list(await self.backend.toxics(self.name))

    async def remove_faults(self, names: Iterable[str]) -> None:
        """Remove the toxics named ``names``."""
        for name in names:
            await self.backend.remove(self.name, name)

    async def clear_faults(self) -> int:
        """Remove every toxic; returns how many there were."""
        names = [str(toxic["name"]) for toxic in await self.faults()]
        await self.remove_faults(names)
        return len(names)

    async def server_ends(self, limit: float) -> list[ServerEnd]:
        """How the server ended each faulted connection, waiting up to ``limit`` s past the fault.

        Never raises on timeout: a connection the server never ended has no signals.
        """
        since = self.faulted_at if self.faulted_at is not None else asyncio.get_running_loop().time()
        await wait_server_ends(self.faulted, since + limit)
        return [server_end(conn, since) for conn in self.faulted]


def find_proxy(proxies: Registry[ProxyHandle], proxy: str) -> ProxyHandle:
    """The proxy named ``proxy``, else the one listening where the URL ``proxy`` points.

    A miss is the registry's (one wording for every handle), with a URL masked.
    """
    if proxy in proxies:
        return proxies.get(proxy)
    found = next((handle for handle in proxies if handle.serves(proxy)), None)
    if found is None:
        return proxies.get(mask_url(proxy) if "://" in proxy else proxy)  # raises the miss
    return found


def same_endpoint(url: str, candidate: str) -> bool:
    """Whether two URLs name the same host and port."""
    try:
        a, b = urlsplit(url), urlsplit(candidate)
        return bool(b.hostname) and (a.hostname, a.port) == (b.hostname, b.port)
    except ValueError:
        return False


def upstream_of(target_url: str) -> str:
    """``host:port`` that a proxy in front of ``target_url`` connects to.

    The port defaults to the scheme's (80, 443); an IPv6 host is bracketed. Anything but a
    ``ws://`` or ``wss://`` URL with a host and a numeric port is a usage error (masked).
    """
    parts = urlsplit(target_url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"Expected a ws:// or wss:// target URL, got {mask_url(target_url)!r}.")
    try:
        port = parts.port or (443 if parts.scheme == "wss" else 80)
    except ValueError:
        raise ValueError(f"Expected a numeric port in {mask_url(target_url)!r}.") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{port}"


def client_url(target_url: str, listen: str, terminates_tls: bool = True) -> str:
    """``target_url`` pointed at a proxy listening on ``listen`` (``host:port``): the same
    path and query, what a client connects to instead.

    A proxy that ``terminates_tls`` (the in-process one) is the TLS client of a ``wss://``
    target and serves plain TCP, so its clients get ``ws://``; a proxy that forwards bytes
    (Toxiproxy) keeps the scheme, and the client's TLS passes through it.

    >>> client_url("wss://example.test/chat?x=1", "127.0.0.1:4567")
    'ws://127.0.0.1:4567/chat?x=1'
    >>> client_url("wss://example.test/chat", "127.0.0.1:4567", terminates_tls=False)
    'wss://127.0.0.1:4567/chat'
    """
    parts = urlsplit(target_url)
    scheme = "ws" if terminates_tls else parts.scheme
    return urlunsplit((scheme, listen, parts.path, parts.query, ""))
