"""Targets no client can ever open, and targets that may open later: the open errors, for real.

Every target is a real socket or a real name:

- ``http-404``, ``http-403``: the echo server process answering the upgrade with that
  status (``--answer-status``), a wrong path and a refused client;
- ``untrusted-tls``: the echo server process serving ``wss://`` with a self-signed
  certificate signed by a private CA (:func:`support.tls_certs.make`), which a default client
  does not trust;
- ``malformed-url``: a URL that is not ``ws://`` or ``wss://``;
- ``unknown-host``: a name under the reserved ``.invalid`` TLD with a ``!`` in it. The
  resolver refuses such a name itself (``EAI_NONAME`` in microseconds): on this machine a
  plain ``.invalid`` name goes to the DNS server, which answers in about 2 ms but, one
  lookup in thirty or so, only after the resolver's 5 s retry, too slow for a time bound.
  :data:`UNKNOWN_HOST_DNS` is that plain name, for checks without a tight bound;
- the transient ones: ``http-503`` and ``http-429`` (come back later), and
  :func:`refused_url` (nothing listening).

:func:`broken_targets` starts the server processes and yields ``{name: url}``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from support.echo_server import running
from support import tls_certs

#: A URL that is not a WebSocket URL at all.
MALFORMED_URL = "http//not a websocket url"
#: A host that cannot exist (reserved TLD), refused by the resolver without a DNS query.
UNKNOWN_HOST = "ws://no-such-host!.invalid/"
#: A host that cannot exist, looked up in DNS (fast here, but now and then 5 s late).
UNKNOWN_HOST_DNS = "ws://no-such-host.invalid/"

#: The targets that fail for good, by name (the server-backed ones are filled in at start).
PERMANENT = ("http-404", "http-403", "untrusted-tls", "malformed-url", "unknown-host")
#: Targets that answer "not now": a retry may succeed.
TRANSIENT = ("http-503", "http-429")


@contextmanager
def broken_targets(directory: Path) -> Iterator[dict[str, str]]:
    """Start the server-backed broken targets (certificates go to ``directory``); yield
    ``{name: url}`` for every name in :data:`PERMANENT` and :data:`TRANSIENT`."""
    made = tls_certs.make(directory)
    cert, key = made.cert, made.key
    with ExitStack() as stack:
        def start(*options: str) -> str:
            return stack.enter_context(running(*options)).url

        yield {
            "http-404": start("--answer-status", "404"),
            "http-403": start("--answer-status", "403"),
            "untrusted-tls": start("--tls-cert", str(cert), "--tls-key", str(key)),
            "malformed-url": MALFORMED_URL,
            "unknown-host": UNKNOWN_HOST,
            "http-503": start("--answer-status", "503"),
            "http-429": start("--answer-status", "429"),
        }


def refused_url() -> str:
    """A ``ws://`` URL on loopback where nothing listens now (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"ws://127.0.0.1:{sock.getsockname()[1]}/"


@contextmanager
def silent_listener() -> Iterator[str]:
    """A ``ws://`` URL whose port accepts TCP connections (the kernel's backlog) and never
    answers the HTTP upgrade: every opening handshake times out."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"ws://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        sock.close()


#: What each permanent target's failure must name.
NAMES_THE_CAUSE = {
    "http-404": "answered HTTP 404",
    "http-403": "answered HTTP 403",
    "untrusted-tls": "TLS certificate verification failed",
    "malformed-url": "is not a valid ws:// or wss:// URL",
    "unknown-host": "Cannot resolve the host",
}
