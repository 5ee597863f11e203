"""Targets: masking secrets in URLs and describing connection failures in one plain line."""

from __future__ import annotations

import re
import socket
import ssl
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

SECRET_PARAMS = re.compile(r"token|auth|key|secret|password|passwd|jwt|session", re.IGNORECASE)
MASK = "***"


def mask_url(url: str) -> str:
    """``url`` with its password and secret-looking query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", f":{MASK}@")
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if SECRET_PARAMS.search(k) else v) for k, v in pairs])
        query = query.replace("%2A%2A%2A", MASK)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def mask_secret(text: str, secrets: list[str]) -> str:
    """``text`` with every occurrence of each non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def describe_open_error(exc: BaseException, url: str) -> str:
    """One line saying why opening a WebSocket to ``url`` failed, secrets masked."""
    where = mask_url(url)
    if isinstance(exc, InvalidURI):
        return f"Cannot connect: {where!r} is not a valid ws:// or wss:// URL."
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        return (
            f"Expected a WebSocket handshake (HTTP 101) from {where}, "
            f"but the server answered HTTP {status}."
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed for {where}: {exc.verify_message}."
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake with {where} failed: {exc.reason or exc}."
    if isinstance(exc, ConnectionRefusedError):
        return f"Connection refused by {where}: nothing is listening there."
    if isinstance(exc, socket.gaierror):
        return f"Cannot resolve the host of {where}: {exc.strerror}."
    if isinstance(exc, TimeoutError):
        return f"Opening handshake with {where} did not complete in time."
    if isinstance(exc, InvalidHandshake):
        return f"WebSocket handshake with {where} failed: {exc}."
    if isinstance(exc, OSError):
        return f"Cannot connect to {where}: {exc.strerror or exc}."
    return f"Cannot connect to {where}: {type(exc).__name__}: {exc}."
