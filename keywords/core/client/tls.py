"""The TLS context a test client uses for ``wss://``, built in one place for every component.

A keyword that opens connections takes ``ca_file`` and ``verify_tls``; when it is not given
them, the component passes the library-wide target settings instead
(``LibraryContext.target``). Either way the context comes from :func:`client_ssl_context`,
so a ``wss://`` target is verified alike everywhere, and switching verification off is
always explicit.
"""

from __future__ import annotations

import asyncio
import ssl
from urllib.parse import urlsplit

from wsresilience.core.client.open_errors import describe_open_error
from wsresilience.errors import OpenFailed


def client_ssl_context(url: str, ca_file: str | None = None, verify_tls: bool = True) -> ssl.SSLContext | None:
    """The client TLS context for ``url``: ``None`` unless it is ``wss://`` (or ``https://``,
    for a metrics endpoint or ``/version`` beside the service).

    ``ca_file`` is a CA bundle (PEM) to trust instead of the system's; ``verify_tls=False``
    accepts any certificate and host name (a self-signed test server).

    >>> client_ssl_context("ws://localhost:8765/") is None
    True
    >>> client_ssl_context("wss://localhost:8765/", verify_tls=False).verify_mode == ssl.CERT_NONE
    True
    """
    if not url.lower().startswith(("wss://", "https://")):
        return None
    context = ssl.create_default_context(cafile=ca_file or None)
    if not verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def check_tls(url: str, context: ssl.SSLContext, timeout: float) -> None:
    """Complete a TLS handshake with ``url``'s host and port, then hang up (no WebSocket).

    Raises :class:`~wsresilience.errors.OpenFailed` saying why in one line (certificate not
    trusted, wrong host name, refused…), so a run that cannot trust its target fails at once
    instead of in every test.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    try:
        async with asyncio.timeout(timeout):
            _reader, writer = await asyncio.open_connection(host, port, ssl=context)
    except Exception as exc:  # noqa: BLE001 - every cause is worded by describe_open_error
        raise OpenFailed(describe_open_error(exc, url)) from None
    writer.transport.abort()
