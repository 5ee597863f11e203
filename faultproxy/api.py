"""The Toxiproxy 2.x HTTP API, served from asyncio over a :class:`ProxyCollection`.

Routes, JSON shapes and status codes follow Toxiproxy's ``api.go``::

    GET  /proxies                     200 {name: proxy, ...}
    POST /proxies                     201 proxy          409 exists, 400 missing field
    POST /populate                    201 {"proxies": [...]}
    GET  /proxies/{p}                 200 proxy          404
    POST|PATCH /proxies/{p}           200 proxy          (e.g. {"enabled": false})
    DELETE /proxies/{p}               204
    GET  /proxies/{p}/toxics          200 [toxic, ...]
    POST /proxies/{p}/toxics          200 toxic          409 exists, 400 bad type/stream
    GET  /proxies/{p}/toxics/{t}      200 toxic          404
    POST|PATCH /proxies/{p}/toxics/{t} 200 toxic
    DELETE /proxies/{p}/toxics/{t}    204
    POST /reset                       204
    GET  /version                     200 {"version": ...}

Errors are ``{"error": "...", "status": N}``. As in Toxiproxy, browsers
(``User-Agent: Mozilla/...``) get 403, so a web page cannot drive the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from wsresilience.faultproxy import __version__
from wsresilience.faultproxy.collection import ProxyCollection
from wsresilience.faultproxy.errors import BadRequest, http_status
from wsresilience.faultproxy.http11 import HttpError, Request, Response, read_request
from wsresilience.faultproxy.toxics import Toxic, check_fields

Handler = Callable[..., Awaitable[Response]]

VERSION = f"{__version__}-faultproxy"


class ApiServer:
    """Serves the Toxiproxy API for ``collection`` on ``host:port`` (port 0: OS-chosen)."""

    def __init__(self, collection: ProxyCollection, host: str = "127.0.0.1", port: int = 8474) -> None:
        self.collection = collection
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("POST", re.compile(r"/reset"), self.reset),
            ("GET", re.compile(r"/version"), self.version),
            ("GET", re.compile(r"/proxies"), self.proxy_index),
            ("POST", re.compile(r"/proxies"), self.proxy_create),
            ("POST", re.compile(r"/populate"), self.populate),
            ("GET", re.compile(r"/proxies/([^/]+)"), self.proxy_show),
            ("POST", re.compile(r"/proxies/([^/]+)"), self.proxy_update),
            ("PATCH", re.compile(r"/proxies/([^/]+)"), self.proxy_update),
            ("DELETE", re.compile(r"/proxies/([^/]+)"), self.proxy_delete),
            ("GET", re.compile(r"/proxies/([^/]+)/toxics"), self.toxic_index),
            ("POST", re.compile(r"/proxies/([^/]+)/toxics"), self.toxic_create),
            ("GET", re.compile(r"/proxies/([^/]+)/toxics/([^/]+)"), self.toxic_show),
            ("POST", re.compile(r"/proxies/([^/]+)/toxics/([^/]+)"), self.toxic_update),
            ("PATCH", re.compile(r"/proxies/([^/]+)/toxics/([^/]+)"), self.toxic_update),
            ("DELETE", re.compile(r"/proxies/([^/]+)/toxics/([^/]+)"), self.toxic_delete),
        ]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve_client, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop serving, end client connections, and stop every proxy."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._clients):
            task.cancel()
        if self._clients:
            await asyncio.wait(self._clients, timeout=5.0)
        await self.collection.stop()

    # ---------------------------------------------------------------- HTTP plumbing

    async def _serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            while True:
                try:
                    request = await read_request(reader)
                except HttpError as error:
                    writer.write(Response.error(error.status, str(error)).encode(keep_alive=False))
                    await writer.drain()
                    return
                if request is None:
                    return
                response = await self.dispatch(request)
                writer.write(response.encode(request.keep_alive))
                await writer.drain()
                if not request.keep_alive:
                    return
        except (ConnectionError, OSError):
            return
        except asyncio.CancelledError:
            # Cancelled by stop() while a keep-alive client waits: end quietly (asyncio
            # logs a traceback for a client handler that ends cancelled).
            return
        finally:
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()

    async def dispatch(self, request: Request) -> Response:
        """Route one request; every failure becomes a JSON error response."""
        if request.headers.get("user-agent", "").startswith("Mozilla/"):
            return Response(403, b"User agent not allowed\n", content_type="text/plain; charset=utf-8")
        path = request.path.rstrip("/") or "/"
        path_matched = False
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if not match:
                continue
            path_matched = True
            if method != request.method:
                continue
            try:
                return await handler(request, *(unquote(g) for g in match.groups()))
            except Exception as error:  # noqa: BLE001 - every failure answers, none escapes
                return Response.error(http_status(error), _message(error))
        if path_matched:
            return Response(405, b"", content_type="text/plain; charset=utf-8")
        return Response(404, b"404 page not found\n", content_type="text/plain; charset=utf-8")

    # ---------------------------------------------------------------- handlers

    async def reset(self, request: Request) -> Response:
        await self.collection.reset()
        return Response(204)

    async def version(self, request: Request) -> Response:
        return Response(200, json.dumps({"version": VERSION}).encode() + b"\n",
                        content_type="application/json;charset=utf-8")

    async def proxy_index(self, request: Request) -> Response:
        return Response.json(200, {p.name: p.to_json() for p in self.collection.all()})

    async def proxy_create(self, request: Request) -> Response:
        proxy = await self.collection.create_from_json(_body(request))
        return Response.json(201, proxy.to_json())

    async def populate(self, request: Request) -> Response:
        data = _body(request)
        if not isinstance(data, list):
            raise BadRequest(f"bad request body: expected a JSON array of proxies, got {type(data).__name__}")
        names = [item.get("name") if isinstance(item, dict) else None for item in data]
        for index, item in enumerate(data, start=1):
            if not isinstance(item, dict):
                raise BadRequest(f"bad request body: proxy {index}: expected a JSON object")
            for key in ("name", "upstream"):
                if not isinstance(item.get(key), str) or not item.get(key):
                    raise BadRequest(f"missing required field: {key} at proxy {index}")
        if len(set(names)) != len(names):
            raise BadRequest("bad request body: duplicate proxy name in populate request")
        created = []
        for item in data:
            if item["name"] in self.collection:
                existing = self.collection.get(item["name"])
                listen = item.get("listen") or existing.listen
                if (listen, item["upstream"]) == (existing.listen, existing.upstream):
                    await existing.set_enabled(item.get("enabled", True))
                    created.append(existing)
                    continue
                await self.collection.remove(item["name"])
            created.append(await self.collection.create_from_json(item))
        return Response.json(201, {"proxies": [p.to_json() for p in created]})

    async def proxy_show(self, request: Request, name: str) -> Response:
        return Response.json(200, self.collection.get(name).to_json())

    async def proxy_update(self, request: Request, name: str) -> Response:
        proxy = self.collection.get(name)
        data = _body(request)
        if not isinstance(data, dict):
            raise BadRequest(f"bad request body: expected a JSON object, got {type(data).__name__}")
        enabled = data.get("enabled")
        if enabled is not None and not isinstance(enabled, bool):
            raise BadRequest(f"bad request body: enabled: expected true or false, got {enabled!r}")
        await proxy.update(listen=data.get("listen") or None, upstream=data.get("upstream") or None,
                           enabled=enabled)
        return Response.json(200, proxy.to_json())

    async def proxy_delete(self, request: Request, name: str) -> Response:
        await self.collection.remove(name)
        return Response(204)

    async def toxic_index(self, request: Request, name: str) -> Response:
        return Response.json(200, [t.to_json() for t in self.collection.get(name).toxics()])

    async def toxic_create(self, request: Request, name: str) -> Response:
        proxy = self.collection.get(name)
        toxic = await proxy.add_toxic(Toxic.from_json(_body(request)))
        return Response.json(200, toxic.to_json())

    async def toxic_show(self, request: Request, name: str, toxic: str) -> Response:
        return Response.json(200, self.collection.get(name).get_toxic(toxic).to_json())

    async def toxic_update(self, request: Request, name: str, toxic: str) -> Response:
        proxy = self.collection.get(name)
        proxy.get_toxic(toxic)
        data = _body(request)
        if not isinstance(data, dict):
            raise BadRequest(f"bad request body: expected a JSON object, got {type(data).__name__}")
        check_fields(data, "toxic update")
        updated = await proxy.update_toxic(toxic, attributes=data.get("attributes"), toxicity=data.get("toxicity"))
        return Response.json(200, updated.to_json())

    async def toxic_delete(self, request: Request, name: str, toxic: str) -> Response:
        await self.collection.get(name).remove_toxic(toxic)
        return Response(204)


def _body(request: Request) -> Any:
    """The request body as JSON, or a 400 saying what was wrong with it."""
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(f"bad request body: expected JSON, got {request.body[:60]!r} ({error})") from None


def _message(error: Exception) -> str:
    if isinstance(error, OSError):
        return f"{type(error).__name__}: {error.strerror or error}"
    return str(error) or type(error).__name__
