"""Just enough HTTP/1.1 for a JSON API on loopback: requests with Content-Length or
chunked bodies, keep-alive, and JSON responses. Malformed input gets a 400 and the
connection closed, never an exception that escapes."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024
#: A client that sends nothing for this long is disconnected.
IDLE_TIMEOUT = 60.0
#: A started request must arrive in full within this time.
READ_TIMEOUT = 15.0


class HttpError(Exception):
    """A request that cannot be parsed; ``status`` is the answer to give."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Request:
    method: str
    path: str
    version: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: Any) -> Response:
        return cls(status, json.dumps(data).encode() + b"\n")

    @classmethod
    def error(cls, status: int, message: str) -> Response:
        """An error body as Toxiproxy writes it: ``{"error": ..., "status": ...}``."""
        return cls.json(status, {"error": message, "status": status})

    def encode(self, keep_alive: bool) -> bytes:
        reason = HTTPStatus(self.status).phrase if self.status in HTTPStatus._value2member_map_ else ""
        lines = [f"HTTP/1.1 {self.status} {reason}"]
        headers = dict(self.headers)
        if self.body or self.status not in (204, 304):
            headers.setdefault("Content-Type", self.content_type)
        if self.status != 204:
            headers["Content-Length"] = str(len(self.body))
        headers["Connection"] = "keep-alive" if keep_alive else "close"
        lines += [f"{k}: {v}" for k, v in headers.items()]
        body = b"" if self.status == 204 else self.body
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Read one request; ``None`` at a clean end of the connection."""
    try:
        async with asyncio.timeout(IDLE_TIMEOUT):
            first = await reader.readline()
    except TimeoutError:
        return None
    if not first:
        return None
    try:
        async with asyncio.timeout(READ_TIMEOUT):
            return await _read_rest(reader, first)
    except TimeoutError:
        raise HttpError(408, f"request not complete within {READ_TIMEOUT:g} s") from None
    except asyncio.LimitOverrunError:
        raise HttpError(431, f"request head longer than {MAX_HEAD} bytes") from None
    except asyncio.IncompleteReadError:
        raise HttpError(400, "connection closed in the middle of a request") from None


async def _read_rest(reader: asyncio.StreamReader, first: bytes) -> Request:
    parts = first.decode("latin-1").strip().split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(400, f"expected a request line like 'GET /path HTTP/1.1', got {first[:80]!r}")
    method, target, version = parts
    headers: dict[str, str] = {}
    size = len(first)
    while True:
        line = await reader.readline()
        size += len(line)
        if size > MAX_HEAD:
            raise HttpError(431, f"request head longer than {MAX_HEAD} bytes")
        if not line:
            raise HttpError(400, "connection closed in the middle of the request head")
        if line in (b"\r\n", b"\n"):
            break
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise HttpError(400, f"expected a header line 'Name: value', got {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    body = await _read_body(reader, headers)
    path = target.split("?", 1)[0]
    return Request(method.upper(), path, version, headers, body)


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size_line = await reader.readline()
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                raise HttpError(400, f"expected a chunk size in hex, got {size_line[:40]!r}") from None
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY:
                raise HttpError(413, f"request body larger than {MAX_BODY} bytes")
            body += await reader.readexactly(size)
            await reader.readline()
    length_text = headers.get("content-length", "0") or "0"
    try:
        length = int(length_text)
    except ValueError:
        raise HttpError(400, f"expected a numeric Content-Length, got {length_text!r}") from None
    if length < 0 or length > MAX_BODY:
        raise HttpError(413 if length > 0 else 400, f"Content-Length must be 0 to {MAX_BODY}, got {length}")
    return await reader.readexactly(length) if length else b""
