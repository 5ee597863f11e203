"""A small asyncio client for the Toxiproxy HTTP API (ours or Shopify's).

It runs on the library's event loop like everything else, so a flapping schedule can
toggle a proxy from a task, and no executor threads are left behind. One request per
connection (``Connection: close``); bodies are JSON; ``Content-Length``, chunked and
read-to-EOF responses are understood.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit
from wsresilience.errors import ToxiproxyError

#: A Toxiproxy API that does not answer within this many seconds is reported as such.
REQUEST_TIMEOUT = 5.0


class ToxiproxyClient:
    """Talks to the Toxiproxy API at ``url`` (``http://host:port``)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"TOXIPROXY_URL: expected http://host:port, got {url!r}.")
        self.url = f"http://{parts.netloc}"
        self.host = parts.hostname
        self.port = parts.port or 8474
        self._version: str | None = None

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        """Send one request; return the decoded JSON (``None`` for an empty body).

        Raises :class:`ToxiproxyError` naming the request and what the API answered.
        """
        what = f"{method} {self.url}{path}"
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                status, payload = await self._exchange(method, path, body)
        except TimeoutError:
            raise ToxiproxyError(f"{what}: no answer within {REQUEST_TIMEOUT:.0f} s.") from None
        except ConnectionRefusedError:
            raise ToxiproxyError(f"{what}: connection refused; is a Toxiproxy API listening there?") from None
        except OSError as error:
            raise ToxiproxyError(f"{what}: {error.strerror or error}.") from None
        if status >= 400:
            raise ToxiproxyError(f"{what} answered HTTP {status}: {_error_text(payload)}")
        if not payload.strip():
            return None
        try:
            return json.loads(payload)
        except ValueError:
            return payload.decode("utf-8", "replace").strip()

    async def version(self) -> str:
        """The server's version string (``GET /version``), cached."""
        if self._version is None:
            answer = await self.request("GET", "/version")
            self._version = str(answer.get("version", "") if isinstance(answer, dict) else answer)
        return self._version

    async def is_faultproxy(self) -> bool:
        """Whether the API is ours (``python -m wsresilience.faultproxy``), which has WebSocket toxics."""
        return (await self.version()).endswith("-faultproxy")

    async def _exchange(self, method: str, path: str, body: Any) -> tuple[int, bytes]:
        data = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "User-Agent: robotframework-wsresilience\r\nAccept: application/json\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            "Connection: close\r\n\r\n"
        )
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(head.encode() + data)
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
        return _parse_response(raw)


def _parse_response(raw: bytes) -> tuple[int, bytes]:
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        raise OSError(f"not an HTTP response: {raw[:40]!r}") from None
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return status, _dechunk(rest)
    if "content-length" in headers:
        return status, rest[: int(headers["content-length"])]
    return status, rest


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return bytes(out)


def _error_text(payload: bytes) -> str:
    text = payload.decode("utf-8", "replace").strip()
    try:
        return str(json.loads(text).get("error", text))
    except (ValueError, AttributeError):
        return text or "(empty body)"
