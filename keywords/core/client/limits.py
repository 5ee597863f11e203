"""The client's own message size limit, and how to say that the client ended a connection.

Every test client refuses a message larger than its limit: it fails the connection with
close code 1009 (Message Too Big, RFC 6455 section 7.4.1) and stops reading. That is the
*client's* doing, and a report must say so: "the server terminated it" would blame the
service for a limit the test set. websockets' default limit is 1 MiB, which a real service
streaming a large document exceeds on a healthy day; the library's default is
:data:`DEFAULT_MAX_MESSAGE_SIZE` (64 MiB), and the suites take it from the run contract
variable ``WS_MAX_MESSAGE_SIZE``.
"""

from __future__ import annotations

import re

#: The largest message a test client accepts unless told otherwise: 64 MiB.
DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024

#: Close code 1009: the endpoint received a message too big for it to process.
MESSAGE_TOO_BIG = 1009

_UNITS = {"": 1, "b": 1, "bytes": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3,
          "kib": 1024, "mib": 1024**2, "gib": 1024**3}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def message_size(value: int | str) -> int:
    """A size in bytes from ``value``: a whole number of bytes, or a number with a unit
    (``B``, ``KB``/``MB``/``GB`` in powers of 1000, ``KiB``/``MiB``/``GiB`` in powers of 1024).

    >>> message_size("64 MiB")
    67108864
    >>> message_size(1048576)
    1048576
    >>> message_size("1.5 kb")
    1500
    """
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    else:
        match = _SIZE.match(str(value))
        unit = match.group(2).lower() if match else ""
        if match is None or unit not in _UNITS:
            raise ValueError(f"Expected a message size such as 1048576, '1 MiB' or '64 MB'; got {value!r}.")
        size = int(float(match.group(1)) * _UNITS[unit])
    if size < 1:
        raise ValueError(f"Expected a message size of at least 1 byte; got {value!r}.")
    return size


def client_close_description(code: int, reason: str, max_size: int | None) -> str:
    """What happened when the client itself failed a connection with close ``code``.

    >>> client_close_description(1009, "frame with 20971520 bytes exceeds limit", 1048576)
    "the client's own message size limit (1048576 bytes) was exceeded by a message from the server (close 1009 sent by the client)"
    """
    if code == MESSAGE_TOO_BIG:
        limit = f"{max_size} bytes" if max_size is not None else "none set"
        return (f"the client's own message size limit ({limit}) was exceeded by a message from "
                f"the server (close 1009 sent by the client)")
    return f"the client failed the connection: {reason or 'no reason given'} (close {code} sent by the client)"
