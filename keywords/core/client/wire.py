"""What a client that has stopped reading can still learn from its own socket.

A ``frozen`` client pauses its transport, so websockets never sees the server's close
frame. The kernel still does: the server's bytes wait unread in the receive buffer, and a
server that gives up half-closes the TCP connection (our socket turns CLOSE_WAIT) or resets
it. :func:`tcp_state` reads the Linux ``TCP_INFO`` state byte; :func:`peek_frames` looks at
the unread server frames without consuming them.

Frames are split by the fault proxy's parser (:func:`wsresilience.faultproxy.wsframes.parse_frames`),
the project's one RFC 6455 frame parser; only the socket side lives here.
"""

from __future__ import annotations

import socket

from wsresilience.faultproxy.wsframes import Frame, parse_frames

#: Linux TCP states (include/net/tcp_states.h).
TCP_STATES = {
    1: "ESTABLISHED",
    2: "SYN_SENT",
    3: "SYN_RECV",
    4: "FIN_WAIT1",
    5: "FIN_WAIT2",
    6: "TIME_WAIT",
    7: "CLOSE",
    8: "CLOSE_WAIT",
    9: "LAST_ACK",
    10: "LISTEN",
    11: "CLOSING",
}


def tcp_state(sock: socket.socket) -> str:
    """The TCP state of ``sock`` (``ESTABLISHED``, ``CLOSE_WAIT``…), or ``UNKNOWN``."""
    tcp_info = getattr(socket, "TCP_INFO", None)
    if tcp_info is None:
        return "UNKNOWN"
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, tcp_info, 8)
    except OSError:
        return "CLOSE"
    return TCP_STATES.get(info[0], "UNKNOWN")


def peek_frames(sock: socket.socket, limit: int = 1 << 18) -> tuple[list[Frame], bool]:
    """Frames waiting unread in ``sock`` and whether the peer has reset the connection.

    ``sock`` must be a real socket (not asyncio's ``TransportSocket``, which forbids
    ``recv``); pass a ``socket.socket(fileno=os.dup(fd))`` duplicate. The frames are the
    complete ones at the start of the receive buffer (see :func:`parse_frames`).
    """
    try:
        data = sock.recv(limit, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return [], False
    except OSError:
        # ConnectionResetError, ConnectionAbortedError, BrokenPipeError and the rest:
        # the connection is broken.
        return [], True
    return parse_frames(data), False
