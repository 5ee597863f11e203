"""Errors of the fault proxy, each mapped to the HTTP status Toxiproxy would answer."""

from __future__ import annotations

from wsresilience.faultproxy.toxics import ToxicError


class FaultProxyError(Exception):
    """Base of the proxy's own errors; ``status`` is the matching HTTP status code."""

    status = 500


class BadRequest(FaultProxyError):
    """Input that cannot be used (missing field, wrong type)."""

    status = 400


class NotFound(FaultProxyError):
    """No proxy or toxic of that name."""

    status = 404


class AlreadyExists(FaultProxyError):
    """A proxy or toxic of that name exists already."""

    status = 409


def http_status(error: Exception) -> int:
    """The HTTP status for ``error`` (400 for bad toxic definitions, 500 for the unexpected)."""
    if isinstance(error, FaultProxyError):
        return error.status
    if isinstance(error, ToxicError):
        return 400
    return 500


def split_address(address: str, *, what: str = "address") -> tuple[str, int]:
    """Split ``host:port`` (or ``[v6]:port``) into host and port, or say what is wrong."""
    if not isinstance(address, str) or ":" not in address:
        raise BadRequest(f"{what}: expected host:port, got {address!r}")
    host, _, port_text = address.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise BadRequest(f"{what}: expected a numeric port in host:port, got {address!r}") from None
    if not 0 <= port <= 65535:
        raise BadRequest(f"{what}: expected a port from 0 to 65535, got {port} in {address!r}")
    return host, port
