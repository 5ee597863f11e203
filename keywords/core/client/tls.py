"""The TLS context a test client uses for ``wss://``, built in one place for every component.

A keyword that opens connections takes ``ca_file`` and ``verify_tls``; when it is not given
them, the component passes the library-wide target settings instead
(``LibraryContext.target``). Either way the context comes from :func:`client_ssl_context`,
so a ``wss://`` target is verified alike everywhere, and switching verification off is
always explicit.
"""

from __future__ import annotations

import ssl


def client_ssl_context(url: str, ca_file: str | None = None, verify_tls: bool = True) -> ssl.SSLContext | None:
    """The client TLS context for ``url``: ``None`` unless it is ``wss://``.

    ``ca_file`` is a CA bundle (PEM) to trust instead of the system's; ``verify_tls=False``
    accepts any certificate and host name (a self-signed test server).

    >>> client_ssl_context("ws://localhost:8765/") is None
    True
    >>> client_ssl_context("wss://localhost:8765/", verify_tls=False).verify_mode == ssl.CERT_NONE
    True
    """
    if not url.startswith("wss://"):
        return None
    context = ssl.create_default_context(cafile=ca_file or None)
    if not verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
