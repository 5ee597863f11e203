"""Why opening a WebSocket failed, in one plain line with secrets masked."""

from __future__ import annotations

import socket
import ssl

from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

from wsresilience.core.masking import mask_url


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
