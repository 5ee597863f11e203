"""The reference server: a websockets server with keepalive, health, metrics and features."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import http
import itertools
import logging
import ssl
from collections.abc import Callable

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from . import __version__
from .client import Client
from .config import ServerConfig
from .defects import Defect
from .features import agents, auth, churn, heartbeat, sessions, streams
from .host import AdmissionCheck, AuthenticatedHook, DisconnectedHook, ServerHost
from .keepalive import leaky_keepalive
from .metrics import ServerCollector, asyncio_task_count, render
from .router import Router

log = logging.getLogger("refserver")

#: Every feature's ``install``, in the order the server runs them.
#:
#: No feature needs another installed before it: each registers its own message types
#: (the router refuses a type registered twice, so none can take over another's) and
#: appends to the server's hook lists, which are read when they run, not at install time.
#: The one dependency between features goes through those lists: the ``auth`` feature
#: runs ``admission_checks`` (churn's ``throttle-reconnects``) and ``on_authenticated``
#: (agents' ``agent_id``). The order still shows in what the server does, so it is fixed
#: here: hooks of one list run in install order (disconnect: sessions, streams, agents,
#: churn), and ``/metrics`` lists the features' series in install order.
FEATURES: tuple[Callable[[ServerHost], None], ...] = (
    heartbeat.install,
    auth.install,
    sessions.install,
    streams.install,
    agents.install,
    churn.install,
)


class ServerApp:
    """Serves the WebSocket endpoint plus ``/healthz`` and ``/metrics``.

    The server itself, run in-process by ``python -m wsresilience.refserver`` and by unit tests; not to
    be confused with the Robot library ``wsresilience.ReferenceServer``, which starts and
    stops it as a separate process. It satisfies :class:`wsresilience.refserver.host.ServerHost`.
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.router = Router()
        self.clients: set[Client] = set()
        self.leaked: list[Client] = []
        self.connections_total = 0
        self.keepalive_terminations = 0
        self._ids = itertools.count(1)
        self._server: Server | None = None
        self.metrics = ServerCollector()
        self.metrics.gauge("ws_open_connections", "Open WebSocket connections held by the server.",
                           lambda: float(len(self.clients) + len(self.leaked)))
        self.metrics.gauge("ws_asyncio_tasks", "asyncio tasks alive in the server.", asyncio_task_count)
        self.metrics.counter("ws_connections", "WebSocket connections accepted.",
                             lambda: float(self.connections_total))
        self.metrics.counter("ws_keepalive_terminations", "Connections closed for missing pongs.",
                             lambda: float(self.keepalive_terminations))
        #: Checks the auth feature runs before it authenticates a client; each may refuse it.
        self.admission_checks: list[AdmissionCheck] = []
        #: Hooks run after a client authenticates; each may add fields to the auth-ok reply.
        self.on_authenticated: list[AuthenticatedHook] = []
        #: Hooks run when a client's connection ends, however it ends.
        self.on_disconnected: list[DisconnectedHook] = []
        for install in FEATURES:
            install(self)

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        """The WebSocket URL clients connect to."""
        scheme = "wss" if self.config.tls_cert else "ws"
        return f"{scheme}://{self.config.host}:{self.port}/"

    async def start(self) -> None:
        """Bind and start serving."""
        leaky = self.config.has(Defect.LEAK_ZOMBIES)
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            ping_interval=None if leaky else self.config.effective_ping_interval,
            ping_timeout=self.config.effective_ping_timeout,
            close_timeout=self.config.close_timeout,
            max_size=self.config.max_size,
            process_request=self._process_request,
            server_header=f"refserver/{__version__}",
            backlog=self.config.backlog,
            ssl=self._server_ssl_context(),
        )

    def _server_ssl_context(self) -> ssl.SSLContext | None:
        """TLS for ``wss://`` when the configuration names a certificate, else ``None``."""
        if not self.config.tls_cert:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.config.tls_cert, self.config.tls_key)
        return context

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._server is None:
            return
        self._server.close(close_connections=True)
        for client in self.leaked:
            if client.ws.transport is not None:
                client.ws.transport.abort()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), self.config.close_timeout + 2)

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == "/healthz":
            return _text_response(http.HTTPStatus.OK, b"ok\n", "text/plain")
        if path == "/metrics":
            return _text_response(http.HTTPStatus.OK, render(self.metrics),
                                  "text/plain; version=0.0.4; charset=utf-8")
        if path == "/version":
            return _text_response(http.HTTPStatus.OK, f"{__version__}\n".encode(), "text/plain")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        client = Client(next(self._ids), ws)
        self.clients.add(client)
        self.connections_total += 1
        every = self.config.gc_freeze_every
        if every and self.connections_total % every == 0:
            gc.freeze()  # keep full collections off the held connections (see ServerConfig)
        keepalive = None
        if self.config.has(Defect.LEAK_ZOMBIES) and self.config.ping_interval is not None:
            keepalive = asyncio.create_task(
                leaky_keepalive(client, self.config.ping_interval, self.config.ping_timeout)
            )
        try:
            async for message in ws:
                await self.router.dispatch(client, message)
        except ConnectionClosed:
            pass
        finally:
            if keepalive is not None:
                keepalive.cancel()
            for hook in self.on_disconnected:
                try:
                    await hook(client)
                except Exception:  # a feature's cleanup must not break the others
                    log.exception("disconnect hook failed for client %s", client.id)
            sent = ws.protocol.close_sent
            if sent is not None and sent.reason == "keepalive ping timeout":
                self.keepalive_terminations += 1
            self.clients.discard(client)
            if client.zombie:
                self.leaked.append(client)  # seeded defect leak-zombies: never let go


def _text_response(status: http.HTTPStatus, body: bytes, content_type: str) -> Response:
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body))),
                       ("Connection", "close")])
    return Response(status.value, status.phrase, headers, body)
