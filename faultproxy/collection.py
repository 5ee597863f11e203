"""A named set of proxies: what the HTTP API serves and a keyword library may hold."""

from __future__ import annotations

import ssl
from typing import Any

from wsresilience.faultproxy.errors import AlreadyExists, BadRequest, NotFound
from wsresilience.faultproxy.proxy import FaultProxy


class ProxyCollection:
    """Proxies by name, created, listed, reset and stopped together.

    ``seed`` seeds each new proxy's generator (``seed`` plus the proxy's creation
    index), so a whole run repeats while proxies still draw independently.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._proxies: dict[str, FaultProxy] = {}
        self._seed = seed
        self._created = 0

    def __contains__(self, name: str) -> bool:
        return name in self._proxies

    def __len__(self) -> int:
        return len(self._proxies)

    def all(self) -> list[FaultProxy]:
        return list(self._proxies.values())

    def get(self, name: str) -> FaultProxy:
        try:
            return self._proxies[name]
        except KeyError:
            raise NotFound(f"proxy not found: {name!r}") from None

    async def create(
        self,
        name: str,
        upstream: str,
        listen: str = "127.0.0.1:0",
        enabled: bool = True,
        seed: int | None = None,
        upstream_tls: ssl.SSLContext | None = None,
    ) -> FaultProxy:
        """Create and start a proxy; 409-style :class:`AlreadyExists` on a name clash.

        ``upstream_tls``: connect upstream with TLS, serve plain TCP (see :class:`FaultProxy`)."""
        if name in self._proxies:
            raise AlreadyExists(f"proxy already exists: {name!r}")
        if seed is None and self._seed is not None:
            seed = self._seed + self._created
        proxy = FaultProxy(name, listen=listen, upstream=upstream, enabled=enabled, seed=seed,
                           upstream_tls=upstream_tls)
        await proxy.start()
        self._created += 1
        self._proxies[name] = proxy
        return proxy

    async def create_from_json(self, data: Any) -> FaultProxy:
        """Create from a Toxiproxy proxy object: ``name`` and ``upstream`` required."""
        if not isinstance(data, dict):
            raise BadRequest(f"bad request body: expected a JSON object, got {type(data).__name__}")
        for key in ("name", "upstream"):
            if not isinstance(data.get(key), str) or not data.get(key):
                raise BadRequest(f"missing required field: {key}")
        listen = data.get("listen") or "127.0.0.1:0"
        enabled = data.get("enabled", True)
        if not isinstance(enabled, bool):
            raise BadRequest(f"bad request body: enabled: expected true or false, got {enabled!r}")
        return await self.create(data["name"], data["upstream"], listen=listen, enabled=enabled)

    async def remove(self, name: str) -> None:
        proxy = self.get(name)
        del self._proxies[name]
        await proxy.stop()

    async def reset(self) -> None:
        """Every proxy enabled and without toxics (Toxiproxy's ``POST /reset``)."""
        for proxy in self.all():
            await proxy.reset()

    async def stop(self) -> None:
        """Stop and forget every proxy."""
        for name in list(self._proxies):
            await self.remove(name)
