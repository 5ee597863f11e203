"""Wire parsing on the client side: peeking at unread frames."""

from __future__ import annotations

import socket

from wsresilience.core.client.wire import peek_frames
from wsresilience.faultproxy.wsframes import OP_CLOSE, OP_PING, encode_frame


def test_peek_frames_reads_without_consuming() -> None:
    """A frozen client peeks at the server's unread frames; they stay in the buffer."""
    ours, theirs = socket.socketpair()
    try:
        ours.setblocking(False)
        assert peek_frames(ours) == ([], False)
        close = encode_frame(OP_CLOSE, (1011).to_bytes(2, "big") + b"keepalive ping timeout")
        theirs.sendall(encode_frame(OP_PING, b"1234") + close + close[:3])
        for _ in range(2):  # peeking twice sees the same frames: nothing was consumed
            frames, reset = peek_frames(ours)
            assert not reset
            assert [f.opcode for f in frames] == [OP_PING, OP_CLOSE]
            assert (frames[1].close_code, frames[1].close_reason) == (1011, "keepalive ping timeout")
    finally:
        ours.close()
        theirs.close()
