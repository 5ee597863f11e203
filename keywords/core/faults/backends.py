"""Where the network-fault keywords send their work: an in-process proxy or a Toxiproxy API.

Both backends speak Toxiproxy's vocabulary (proxies by name, toxics as JSON objects) and
run on the library's event loop:

* :class:`InProcessBackend` holds a :class:`faultproxy.ProxyCollection` in that loop:
  no extra process, and it can report how each side of a connection ended;
* :class:`ToxiproxyBackend` drives a Toxiproxy HTTP API (``python -m wsresilience.faultproxy
  --api-port 0`` or Shopify's Toxiproxy). Flapping runs as a task here that toggles
  ``enabled``; WebSocket-aware toxics need the API to be ours (checked via ``/version``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import ssl
from typing import Any

from wsresilience.faultproxy import FaultProxy, ProxyCollection, Toxic
from wsresilience.faultproxy.connection import Connection
from wsresilience.faultproxy.toxics import STAGES

from wsresilience.core.faults.toxiproxy import ToxiproxyClient
from wsresilience.errors import Unsupported

#: The toxic types only faultproxy has: its WebSocket-aware (frame) toxics, as registered.
FRAME_TOXICS = frozenset(kind for kind, stage in STAGES.items() if stage.frames)


class InProcessBackend:
    """Proxies in the library's own event loop."""

    where = "in-process"

    def __init__(self, seed: int | None = None) -> None:
        self.collection = ProxyCollection(seed=seed)
        #: Connections seen per proxy, for observing how the server ended them.
        self.seen: dict[str, list[Connection]] = {}

    def proxy(self, name: str) -> FaultProxy:
        return self.collection.get(name)

    async def create(self, name: str, upstream: str, seed: int | None,
                     tls: ssl.SSLContext | None = None) -> str:
        """Start proxy ``name`` in front of ``upstream``; with ``tls``, the proxy is the TLS
        client of the upstream and serves plain TCP (frames stay visible to the toxics)."""
        proxy = await self.collection.create(name, upstream, seed=seed, upstream_tls=tls)
        seen = self.seen.setdefault(name, [])

        def track(conn: Connection) -> None:
            seen[:] = [c for c in seen if not c.closed]  # only open ones are ever asked for
            seen.append(conn)

        proxy.on_connection = track
        return proxy.listen

    async def add(self, name: str, toxic: dict[str, Any]) -> dict[str, Any]:
        return (await self.proxy(name).add_toxic(Toxic.from_json(toxic))).to_json()

    async def remove(self, name: str, toxic: str) -> None:
        await self.proxy(name).remove_toxic(toxic)

    async def toxics(self, name: str) -> list[dict[str, Any]]:
        return [t.to_json() for t in self.proxy(name).toxics()]

    async def set_enabled(self, name: str, enabled: bool, reset: bool = False) -> None:
        proxy = self.proxy(name)
        await proxy.stop_flapping()
        await (proxy.enable() if enabled else proxy.disable(reset=reset))

    async def reset_connections(self, name: str) -> int | None:
        return await self.proxy(name).reset_connections()

    async def flap(self, name: str, down: float, up: float, times: int | None,
                   reset: bool = False) -> None:
        await self.proxy(name).flap(down, up, times, reset=reset)

    async def wait_flapping(self, name: str, timeout: float) -> bool:
        """True once a bounded flap schedule has ended; False after ``timeout`` s."""
        try:
            await self.proxy(name).wait_flapping(timeout)
        except TimeoutError:
            return False
        return True

    async def delete(self, name: str) -> None:
        self.seen.pop(name, None)
        await self.collection.remove(name)

    async def close(self) -> None:
        self.seen.clear()
        await self.collection.stop()

    def open_connections(self, name: str) -> list[Connection]:
        """Connections through ``name`` still open and not yet ended by the server."""
        seen = self.seen.get(name, [])
        seen[:] = [c for c in seen if not c.closed]
        return [c for c in seen if not c.links["downstream"].peer_ends]


class ToxiproxyBackend:
    """Proxies on a Toxiproxy HTTP API; names get the process id, so parallel runs share it."""

    def __init__(self, url: str) -> None:
        self.client = ToxiproxyClient(url)
        self.where = self.client.url
        self._names: dict[str, str] = {}
        #: Proxies in front of a wss:// target: they carry TLS through, frames unseen.
        self._ciphertext: set[str] = set()
        self._flaps: dict[str, asyncio.Task[None]] = {}

    def _path(self, name: str, tail: str = "") -> str:
        return f"/proxies/{self._names[name]}{tail}"

    async def create(self, name: str, upstream: str, seed: int | None,
                     tls: ssl.SSLContext | None = None) -> str:
        """Create proxy ``name`` on the API. Toxiproxy forwards bytes: in front of a ``wss://``
        target (``tls`` given) the client's TLS goes through it end to end, so the proxy
        sees ciphertext and refuses frame faults (:meth:`add`)."""
        if tls is not None:
            self._ciphertext.add(name)
        remote = f"{name}.{os.getpid()}"
        listen_host = "127.0.0.1" if _is_loopback(self.client.host) else "0.0.0.0"
        answer = await self.client.request(
            "POST", "/proxies", {"name": remote, "upstream": upstream, "listen": f"{listen_host}:0"}
        )
        self._names[name] = remote
        listen = str(answer["listen"])
        host, _, port = listen.rpartition(":")
        if host.strip("[]") in ("0.0.0.0", "::", ""):
            listen = f"{self.client.host}:{port}"
        return listen

    async def add(self, name: str, toxic: dict[str, Any]) -> dict[str, Any]:
        if toxic["type"] in FRAME_TOXICS and name in self._ciphertext:
            raise Unsupported(
                f"The {toxic['type']} fault reads WebSocket frames, but proxy {name!r} on the Toxiproxy "
                f"API at {self.where} carries the client's TLS to the wss:// target end to end and sees "
                "only ciphertext. Use the in-process proxy (TOXIPROXY_URL empty), which terminates TLS."
            )
        if toxic["type"] in FRAME_TOXICS and not await self.client.is_faultproxy():
            raise Unsupported(
                f"The {toxic['type']} fault is WebSocket-aware and only faultproxy has it; the "
                f"Toxiproxy API at {self.where} is version {await self.client.version()!r}. Run "
                "`python -m wsresilience.faultproxy --api-port 0` there, or use the in-process proxy."
            )
        return dict(await self.client.request("POST", self._path(name, "/toxics"), toxic))

    async def remove(self, name: str, toxic: str) -> None:
        await self.client.request("DELETE", self._path(name, f"/toxics/{toxic}"))

    async def toxics(self, name: str) -> list[dict[str, Any]]:
        return list(await self.client.request("GET", self._path(name, "/toxics")) or [])

    async def set_enabled(self, name: str, enabled: bool, reset: bool = False) -> None:
        await self._stop_flap(name)
        await self._toggle(name, enabled)

    async def _toggle(self, name: str, enabled: bool) -> None:
        await self.client.request("POST", self._path(name), {"enabled": enabled})

    async def reset_connections(self, name: str) -> int | None:
        """RST open connections: a ``reset_peer`` toxic (timeout 0), removed again at once.

        On our API it meets every open connection; Shopify's Toxiproxy only resets a
        connection when it next carries data. The count is unknown over HTTP: ``None``.
        """
        toxic = {"type": "reset_peer", "name": "reset_connections_now", "stream": "downstream",
                 "attributes": {"timeout": 0}}
        await self.client.request("POST", self._path(name, "/toxics"), toxic)
        await self.remove(name, "reset_connections_now")
        return None

    async def flap(self, name: str, down: float, up: float, times: int | None,
                   reset: bool = False) -> None:
        if reset:
            raise ValueError("Flapping with resets needs the in-process proxy; a Toxiproxy "
                             "API disables a proxy with FIN only.")
        await self._stop_flap(name)
        await self._toggle(name, False)
        self._flaps[name] = asyncio.create_task(self._flap(name, down, up, times))

    async def _flap(self, name: str, down: float, up: float, times: int | None) -> None:
        count = 0
        while times is None or count < times:
            if count:
                await self._toggle(name, False)
            await asyncio.sleep(down)  # the schedule itself: down this long
            await self._toggle(name, True)
            count += 1
            if times is None or count < times:
                await asyncio.sleep(up)

    async def wait_flapping(self, name: str, timeout: float) -> bool:
        """True once a bounded flap schedule has ended; False after ``timeout`` s."""
        task = self._flaps.get(name)
        if task is None:
            return True
        done, _ = await asyncio.wait([task], timeout=timeout)
        if done:
            task.result()  # a failed toggle surfaces here
        return bool(done)

    async def _stop_flap(self, name: str) -> None:
        task = self._flaps.pop(name, None)
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self._toggle(name, True)

    async def delete(self, name: str) -> None:
        await self._stop_flap(name)
        await self.client.request("DELETE", self._path(name))
        del self._names[name]

    async def close(self) -> None:
        """Delete every proxy this library created (never ``POST /reset``: others may share it)."""
        for name in list(self._names):
            with contextlib.suppress(Exception):
                await self.delete(name)


Backend = InProcessBackend | ToxiproxyBackend


async def close_all(backends: list[Backend]) -> None:
    """Stop every backend in turn: in-process proxies stop, remote proxies are deleted."""
    for backend in backends:
        await backend.close()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
