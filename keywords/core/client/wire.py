"""What a client that has stopped reading can still learn from its own socket.

A ``frozen`` client pauses its transport, so websockets never sees the server's close
frame. The kernel still does: the server's bytes wait unread in the receive buffer, and a
server that gives up half-closes the TCP connection (our socket turns CLOSE_WAIT) or resets
it. :func:`tcp_state` reads the Linux ``TCP_INFO`` state byte; :func:`peek_frames` parses
the unread server frames (unmasked, RFC 6455 section 5.2) without consuming them.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

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

OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA


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


@dataclass(frozen=True)
class PeekedFrame:
    """A server frame waiting unread in the receive buffer."""

    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int | None:
        """The close code of a close frame (1005 when it carries none)."""
        if self.opcode != OP_CLOSE:
            return None
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else 1005

    @property
    def close_reason(self) -> str:
        """The close reason of a close frame."""
        if self.opcode != OP_CLOSE:
            return ""
        return self.payload[2:].decode("utf-8", "replace")


def parse_frames(data: bytes) -> list[PeekedFrame]:
    """Parse complete frames from the start of ``data``; a trailing partial frame is ignored."""
    frames: list[PeekedFrame] = []
    i = 0
    while len(data) - i >= 2:
        opcode = data[i] & 0x0F
        masked = data[i + 1] & 0x80
        length = data[i + 1] & 0x7F
        j = i + 2
        if length == 126:
            if len(data) < j + 2:
                break
            (length,) = struct.unpack("!H", data[j : j + 2])
            j += 2
        elif length == 127:
            if len(data) < j + 8:
                break
            (length,) = struct.unpack("!Q", data[j : j + 8])
            j += 8
        mask = b""
        if masked:
            mask = data[j : j + 4]
            j += 4
        if len(data) < j + length:
            break
        payload = data[j : j + length]
        if masked and len(mask) == 4:
            payload = bytes(b ^ mask[k % 4] for k, b in enumerate(payload))
        frames.append(PeekedFrame(opcode, payload))
        i = j + length
    return frames


def peek_frames(sock: socket.socket, limit: int = 1 << 18) -> tuple[list[PeekedFrame], bool]:
    """Frames waiting unread in ``sock`` and whether the peer has reset the connection.

    ``sock`` must be a real socket (not asyncio's ``TransportSocket``, which forbids
    ``recv``); pass a ``socket.socket(fileno=os.dup(fd))`` duplicate.
    """
    try:
        data = sock.recv(limit, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return [], False
    except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
        return [], True
    except OSError:
        return [], True
    return parse_frames(data), False
