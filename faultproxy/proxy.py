"""The fault proxy: listens, connects each client to the upstream, applies toxics.

Everything here is a coroutine or a plain method running in the caller's event
loop; the proxy owns no thread and no loop. A Robot library can run it on its own
background loop with ``asyncio.run_coroutine_threadsafe(proxy.add_toxic(...), loop)``.

>>> proxy = FaultProxy("ws", upstream="127.0.0.1:8765", seed=7)
>>> await proxy.start()                      # doctest: +SKIP
>>> proxy.port                               # the OS-chosen port  # doctest: +SKIP
>>> await proxy.add_toxic("latency", attributes={"latency": 200, "jitter": 50})  # doctest: +SKIP

In front of a TLS server (``wss://``) the proxy is given ``upstream_tls``, an
``ssl.SSLContext``: it then connects upstream with TLS (verifying the server with that
context) and serves *plain TCP* to its clients. The bytes between the toxics are
therefore WebSocket frames, not ciphertext, and the frame-aware toxics (``drop_pongs``,
``cut_at_frame``…) and the server-end notes (close frame, FIN, RST) work as over
``ws://``. A client of such a proxy connects with ``ws://`` (plain TCP to the proxy).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
from collections.abc import Callable
from typing import Any

from wsresilience.faultproxy.connection import READ_SIZE, Connection
from wsresilience.faultproxy.errors import AlreadyExists, BadRequest, NotFound, split_address
from wsresilience.faultproxy.toxics import STAGES, STREAMS, Toxic

#: How long to wait for the upstream to accept a connection.
UPSTREAM_CONNECT_TIMEOUT = 5.0
#: How long ``stop`` waits for connection tasks to end after cancelling them.
STOP_TIMEOUT = 5.0


class FaultProxy:
    """A TCP proxy from ``listen`` to ``upstream`` with Toxiproxy-style toxics.

    ``listen`` port 0 lets the OS choose; :attr:`listen` and :attr:`port` report the
    real one after :meth:`start`, and a re-enabled proxy listens on it again.
    ``seed`` fixes the random generator behind toxicity draws, jitter and slicing.
    """

    def __init__(
        self,
        name: str,
        listen: str = "127.0.0.1:0",
        upstream: str = "127.0.0.1:8765",
        enabled: bool = True,
        seed: int | None = None,
        upstream_tls: ssl.SSLContext | None = None,
        upstream_hostname: str | None = None,
    ) -> None:
        if not name or not isinstance(name, str):
            raise BadRequest(f"missing required field: name (expected a non-empty string, got {name!r})")
        split_address(listen, what="listen")
        split_address(upstream, what="upstream")
        self.name = name
        self.listen = listen
        self.upstream = upstream
        #: TLS to the upstream (``None``: plain TCP); clients still get plain TCP.
        self.upstream_tls = upstream_tls
        #: The name the upstream certificate must carry (default: the upstream host).
        self.upstream_hostname = upstream_hostname
        #: Why recent upstream connections failed (one line each, newest last, at most 10).
        self.upstream_failures: list[str] = []
        self._want_enabled = bool(enabled)
        self._rng = random.Random(seed)
        self._toxics: dict[str, Toxic] = {}
        self._server: asyncio.Server | None = None
        self._connections: dict[Connection, None] = {}  # insertion-ordered set
        self._handlers: set[asyncio.Task[None]] = set()
        self._flap_task: asyncio.Task[None] | None = None
        self.accepted = 0
        #: Called with each new :class:`Connection` once it is proxied (an observer's hook).
        self.on_connection: Callable[[Connection], None] | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def enabled(self) -> bool:
        """True while the proxy listens (after :meth:`start`, until disabled or stopped)."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The port the proxy listens on (the real one once started)."""
        return split_address(self.listen)[1]

    @property
    def host(self) -> str:
        return split_address(self.listen)[0]

    @property
    def connections(self) -> int:
        """Number of client connections currently proxied."""
        return len(self._connections)

    async def start(self) -> None:
        """Start listening, unless the proxy was created disabled."""
        if self._want_enabled:
            await self._listen()

    async def stop(self) -> None:
        """Stop listening, drop every connection, and wait until all tasks are gone."""
        await self.stop_flapping()
        await self._unlisten()
        self._drop_connections("abort")
        await self._wait_handlers()

    async def enable(self) -> None:
        """Listen again (on the same port)."""
        self._want_enabled = True
        await self._listen()

    async def disable(self, *, reset: bool = False) -> None:
        """Refuse new connections and cut open ones (FIN, or RST with ``reset=True``)."""
        self._want_enabled = False
        await self._unlisten()
        self._drop_connections("reset" if reset else "close")
        await self._wait_handlers()

    async def set_enabled(self, enabled: bool) -> None:
        await (self.enable() if enabled else self.disable())

    async def update(self, *, listen: str | None = None, upstream: str | None = None,
                     enabled: bool | None = None) -> None:
        """Change address or state as Toxiproxy's proxy update does (a move restarts)."""
        new_listen = self.listen if listen is None else listen
        new_upstream = self.upstream if upstream is None else upstream
        split_address(new_listen, what="listen")
        split_address(new_upstream, what="upstream")
        want = self.enabled if enabled is None else bool(enabled)
        if (new_listen, new_upstream) != (self.listen, self.upstream):
            await self.disable()
            self.listen, self.upstream = new_listen, new_upstream
        await self.set_enabled(want)

    async def _listen(self) -> None:
        if self._server is not None:
            return
        host, port = split_address(self.listen, what="listen")
        self._server = await asyncio.start_server(self._handle, host, port, limit=READ_SIZE)
        sock_host, sock_port = self._server.sockets[0].getsockname()[:2]
        self.listen = f"[{sock_host}]:{sock_port}" if ":" in sock_host else f"{sock_host}:{sock_port}"

    async def _unlisten(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_TIMEOUT):
                    await server.wait_closed()

    def _drop_connections(self, how: str) -> None:
        for conn in list(self._connections):
            getattr(conn, how)()

    async def _wait_handlers(self) -> None:
        handlers = [t for t in self._handlers if t is not asyncio.current_task()]
        if not handlers:
            return
        _done, pending = await asyncio.wait(handlers, timeout=STOP_TIMEOUT)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=STOP_TIMEOUT)

    # ------------------------------------------------------------------ connections

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        conn: Connection | None = None
        try:
            if not self.enabled:
                writer.transport.abort()
                return
            host, port = split_address(self.upstream, what="upstream")
            tls: dict[str, Any] = {}
            if self.upstream_tls is not None:
                tls = {"ssl": self.upstream_tls, "server_hostname": self.upstream_hostname or host}
            try:
                async with asyncio.timeout(UPSTREAM_CONNECT_TIMEOUT):
                    upstream = await asyncio.open_connection(host, port, limit=READ_SIZE, **tls)
            except (OSError, TimeoutError) as exc:
                self.upstream_failures = [*self.upstream_failures[-9:], f"{type(exc).__name__}: {exc}"]
                writer.transport.abort()  # as Toxiproxy: the client is dropped
                return
            conn = Connection((reader, writer), upstream)
            self.accepted += 1
            self._connections[conn] = None
            for toxic in self._ordered_toxics():
                self._attach(conn, toxic)
            if self.on_connection is not None:
                self.on_connection(conn)
            await conn.run()
        except asyncio.CancelledError:
            # Cancelled by stop(): end quietly (asyncio logs handlers that end cancelled).
            if conn is not None:
                conn.abort()
        finally:
            if conn is not None:
                self._connections.pop(conn, None)
            else:
                writer.transport.abort()
            self._handlers.discard(task)

    def _attach(self, conn: Connection, toxic: Toxic) -> None:
        """Draw this connection's toxicity for ``toxic`` and put it to work if drawn."""
        active = self._rng.random() < toxic.toxicity
        stage_rng = random.Random(self._rng.getrandbits(64))
        stage = STAGES[toxic.type](toxic, conn, stage_rng, active)
        conn.links[toxic.stream].attach(stage)

    # ------------------------------------------------------------------ toxics

    def _ordered_toxics(self) -> list[Toxic]:
        """Upstream toxics first, then downstream, each in the order added (as Toxiproxy)."""
        return [t for stream in STREAMS for t in self._toxics.values() if t.stream == stream]

    def toxics(self) -> list[Toxic]:
        """The toxics of this proxy."""
        return self._ordered_toxics()

    def get_toxic(self, name: str) -> Toxic:
        try:
            return self._toxics[name]
        except KeyError:
            raise NotFound(f"toxic not found: {name!r} on proxy {self.name!r}") from None

    async def add_toxic(
        self,
        type: str | Toxic,
        name: str = "",
        stream: str = "downstream",
        toxicity: float = 1.0,
        attributes: dict[str, Any] | None = None,
    ) -> Toxic:
        """Add a toxic; it applies to open connections at once and to every new one.

        ``type`` is a toxic type (``"latency"``…) or a ready :class:`Toxic`. Raises
        :class:`ToxicError` on a bad definition, :class:`AlreadyExists` on a name clash.
        """
        toxic = type if isinstance(type, Toxic) else Toxic(type, name, stream, toxicity, attributes or {})
        if toxic.name in self._toxics:
            raise AlreadyExists(f"toxic already exists: {toxic.name!r} on proxy {self.name!r}")
        self._toxics[toxic.name] = toxic
        for conn in list(self._connections):
            self._attach(conn, toxic)
        return toxic

    async def update_toxic(
        self, name: str, attributes: dict[str, Any] | None = None, toxicity: float | None = None
    ) -> Toxic:
        """Merge ``attributes`` into a toxic and/or change its toxicity, on open connections too."""
        current = self.get_toxic(name)
        change: dict[str, Any] = {"attributes": attributes or {}}
        if toxicity is not None:
            change["toxicity"] = toxicity
        toxic = current.updated(change)
        self._toxics[name] = toxic
        redraw = toxic.toxicity != current.toxicity
        for conn in list(self._connections):
            link = conn.links[toxic.stream]
            stage = link.stages.get(name)
            if stage is None:
                continue
            active = self._rng.random() < toxic.toxicity if redraw else stage.active
            stage.reconfigure(toxic, active)
            link.refresh()
        return toxic

    async def remove_toxic(self, name: str) -> None:
        """Remove a toxic; data it was holding goes on at once."""
        toxic = self.get_toxic(name)
        del self._toxics[name]
        for conn in list(self._connections):
            conn.links[toxic.stream].detach(name)

    async def remove_all_toxics(self) -> None:
        for name in list(self._toxics):
            await self.remove_toxic(name)

    async def reset(self) -> None:
        """Back to healthy: no toxics, no flapping, listening (as Toxiproxy's ``POST /reset``)."""
        await self.stop_flapping()
        await self.remove_all_toxics()
        await self.enable()

    async def reset_connections(self) -> int:
        """Reset (RST) every open connection now; return how many there were."""
        count = len(self._connections)
        self._drop_connections("reset")
        await self._wait_handlers()
        return count

    # ------------------------------------------------------------------ flapping

    async def flap(self, down: float, up: float, times: int | None = None, *, reset: bool = False) -> None:
        """Flap: down ``down`` s, up ``up`` s, ``times`` times (``None``: until
        :meth:`stop_flapping`), ending enabled. Returns once the proxy is down for the
        first time; the rest of the schedule runs in the background."""
        if down <= 0 or up < 0:
            raise BadRequest(f"flap: expected down > 0 and up >= 0 seconds, got down={down} up={up}")
        if times is not None and times < 1:
            raise BadRequest(f"flap: expected times >= 1 or None, got {times}")
        await self.stop_flapping()
        await self.disable(reset=reset)
        self._flap_task = asyncio.create_task(self._flap(down, up, times, reset))

    @property
    def flapping(self) -> bool:
        return self._flap_task is not None and not self._flap_task.done()

    async def wait_flapping(self, timeout: float) -> None:
        """Wait until a bounded flap schedule has run its course (TimeoutError after ``timeout`` s)."""
        if self._flap_task is not None:
            async with asyncio.timeout(timeout):
                await asyncio.shield(self._flap_task)

    async def stop_flapping(self) -> None:
        """Stop a flap schedule; the proxy is left enabled."""
        task, self._flap_task = self._flap_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self.enable()

    async def _flap(self, down: float, up: float, times: int | None, reset: bool) -> None:
        count = 0
        while times is None or count < times:
            if count:
                await self.disable(reset=reset)
            await asyncio.sleep(down)
            await self.enable()
            count += 1
            if times is None or count < times:
                await asyncio.sleep(up)

    # ------------------------------------------------------------------ JSON

    def to_json(self) -> dict[str, Any]:
        """The proxy as Toxiproxy shows it."""
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": [t.to_json() for t in self._ordered_toxics()],
        }

    def __repr__(self) -> str:
        state = "enabled" if self.enabled else "disabled"
        return f"<FaultProxy {self.name} {self.listen} -> {self.upstream} {state}, {len(self._toxics)} toxics>"
