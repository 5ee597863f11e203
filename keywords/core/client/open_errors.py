"""Why opening a WebSocket failed, in one plain line with secrets masked, and whether a
retry could ever fix it.

:func:`describe_open_error` words the failure; :func:`is_permanent` sorts it. Every place
that retries an open (the stream reconnect backoff, the flapping clients) asks
:func:`is_permanent` before trying again, so they all agree on what can heal.

Permanent (the same request gets the same answer, however often it is repeated):

- an invalid URL (``InvalidURI``);
- a host name that does not exist (``socket.gaierror`` other than ``EAI_AGAIN``, the
  resolver's "try again");
- a TLS certificate that does not verify, or a TLS handshake the two ends cannot agree on
  (``ssl.SSLError``, except the ones that only mean the connection dropped mid-handshake);
- an HTTP 1xx–4xx answer to the upgrade, except ``408 Request Timeout`` and ``429 Too Many
  Requests``, which ask the client to come back later: ``401``/``403`` refuse the client,
  ``404`` names the wrong path, ``200`` or a redirect that cannot be followed means no
  WebSocket endpoint is there;
- an answer that is not a WebSocket handshake (bad ``Upgrade`` or ``Sec-WebSocket-Accept``
  header, a refused extension or subprotocol, HTTP that does not parse, a security limit).

Transient (a later attempt may succeed): connection refused, reset or unreachable, a
handshake that timed out, the connection dropped before the answer, the resolver's
``EAI_AGAIN``, HTTP 5xx (``502``/``503``/``504``: a gateway or a server not ready yet),
``408`` and ``429``. Anything else is transient too: retrying something unknown costs time,
failing it at once might fail a service that was about to answer.
"""

from __future__ import annotations

import socket
import ssl

from websockets.exceptions import InvalidHandshake, InvalidMessage, InvalidStatus, InvalidURI

from wsresilience.core.masking import mask_url
from wsresilience.errors import OpenFailed

#: HTTP answers in the 4xx range that ask the client to retry later.
RETRYABLE_4XX = frozenset({408, 429})

#: TLS errors that mean the connection dropped during the TLS handshake, not a refusal.
_TLS_DROPPED = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)


def describe_open_error(exc: BaseException, url: str, timeout: float | None = None) -> str:
    """One line saying why opening a WebSocket to ``url`` failed, secrets masked.

    ``timeout`` is how long the opening handshake was given; a timeout says it.
    """
    where = mask_url(url)
    exc = open_error_cause(exc)
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
        within = f" within {timeout:.3f} s" if timeout is not None else ""
        return f"Opening handshake with {where} did not complete{within}."
    if isinstance(exc, InvalidHandshake):
        return f"WebSocket handshake with {where} failed: {exc}."
    if isinstance(exc, OSError):
        return f"Cannot connect to {where}: {exc.strerror or exc}."
    return f"Cannot connect to {where}: {type(exc).__name__}: {exc}."


def open_error_cause(exc: BaseException) -> BaseException:
    """The error that made an open fail: the cause an :class:`OpenFailed` carries, else ``exc``."""
    if isinstance(exc, OpenFailed) and exc.cause is not None:
        return exc.cause
    return exc


def is_permanent(exc: BaseException) -> bool:
    """Whether opening failed for a reason no retry can heal (see the module docstring).

    ``exc`` is the error ``websockets.connect`` raised, or an :class:`OpenFailed` carrying it.

    >>> is_permanent(InvalidURI("http://x", "scheme isn't ws or wss"))
    True
    >>> is_permanent(ConnectionRefusedError(111, "Connection refused"))
    False
    >>> is_permanent(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    True
    >>> is_permanent(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"))
    False
    """
    exc = open_error_cause(exc)
    if isinstance(exc, InvalidURI):
        return True
    if isinstance(exc, socket.gaierror):
        return exc.errno != socket.EAI_AGAIN
    if isinstance(exc, ssl.SSLError):
        return not isinstance(exc, _TLS_DROPPED)
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        return status < 500 and status not in RETRYABLE_4XX
    if isinstance(exc, InvalidMessage):
        # The connection closed before a full answer came (EOFError): it may answer next time.
        # Anything else that does not parse as HTTP will not parse next time either.
        return not isinstance(exc.__cause__, EOFError | OSError)
    return isinstance(exc, InvalidHandshake)
