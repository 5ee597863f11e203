"""Incremental RFC 6455 frame splitting for one direction of a proxied byte stream.

A TCP proxy sees bytes, not messages: a frame can arrive split over several reads,
and one read can carry several frames. :class:`FrameParser` follows the stream from
its first byte (the HTTP upgrade), so it always knows where the next frame starts,
even while nothing asks it for frames. That is what lets a WebSocket-aware toxic
be added to a connection that is already open.

Two modes, chosen per call to :meth:`FrameParser.feed`:

* pass-through (``assemble=False``): the bytes come back as they went in, as one
  :class:`Raw` piece; the parser only tracks frame boundaries. This is the fast
  path, O(1) for bytes inside a payload.
* assembling (``assemble=True``): complete frames come back as :class:`Frame`
  pieces, which a toxic may drop, repeat, alter or use as a trigger. A frame whose
  first bytes already went out in pass-through mode finishes as :class:`Raw`.

The parser never raises on bad input: anything that is not a WebSocket upgrade
followed by frames turns the stream *opaque* and every later byte passes as raw.

This is the project's one RFC 6455 frame parser: :func:`parse_frames` splits a buffer
that starts on a frame boundary (what a frozen test client peeks at in its socket, see
``wsresilience.core.client.wire``) with the same :class:`FrameParser`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

#: Frames bigger than this are never assembled (passed through raw instead).
DEFAULT_MAX_FRAME = 16 * 1024 * 1024
#: An HTTP upgrade head longer than this is not one: the stream turns opaque.
MAX_HANDSHAKE = 64 * 1024

_HANDSHAKE, _HEADER, _PAYLOAD, _OPAQUE = range(4)


@dataclass(slots=True)
class Raw:
    """Bytes to forward unchanged (handshake, opaque data, or a frame not assembled)."""

    data: bytes


@dataclass(slots=True)
class Frame:
    """One complete frame as it travels on the wire (payload still masked if it was)."""

    header: bytes
    payload: bytes

    @property
    def fin(self) -> bool:
        return bool(self.header[0] & 0x80)

    @property
    def opcode(self) -> int:
        return self.header[0] & 0x0F

    @property
    def rsv1(self) -> bool:
        """Set on frames compressed by permessage-deflate."""
        return bool(self.header[0] & 0x40)

    @property
    def masked(self) -> bool:
        return bool(self.header[1] & 0x80)

    @property
    def is_data(self) -> bool:
        """Text, binary and continuation frames carry data; the others are control."""
        return self.opcode < 0x8

    @property
    def mask_key(self) -> bytes:
        return self.header[-4:] if self.masked else b""

    def unmasked_payload(self) -> bytes:
        """The payload as the application sent it."""
        return apply_mask(self.payload, self.mask_key) if self.masked else self.payload

    def to_bytes(self) -> bytes:
        return self.header + self.payload

    @property
    def close_code(self) -> int | None:
        """The status code of a close frame (1005, "none", when it carries none)."""
        if self.opcode != OP_CLOSE:
            return None
        payload = self.unmasked_payload()
        return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005

    @property
    def close_reason(self) -> str:
        """The reason text of a close frame (empty for other frames)."""
        if self.opcode != OP_CLOSE:
            return ""
        return self.unmasked_payload()[2:].decode("utf-8", "replace")


def apply_mask(data: bytes, key: bytes) -> bytes:
    """XOR ``data`` with the 4-byte masking ``key`` (masking and unmasking are the same)."""
    if not data:
        return b""
    repeated = (key * (len(data) // 4 + 1))[: len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(data), "big")


def header_length(first_two: bytes | bytearray) -> int:
    """Total header length implied by the first two header bytes."""
    length_code = first_two[1] & 0x7F
    size = 2 + (2 if length_code == 126 else 8 if length_code == 127 else 0)
    return size + (4 if first_two[1] & 0x80 else 0)


def payload_length(header: bytes) -> int:
    """Payload length declared by a complete header."""
    length_code = header[1] & 0x7F
    if length_code == 126:
        return int(struct.unpack_from("!H", header, 2)[0])
    if length_code == 127:
        return int(struct.unpack_from("!Q", header, 2)[0])
    return length_code


def encode_frame(opcode: int, payload: bytes, *, fin: bool = True, mask_key: bytes = b"") -> bytes:
    """Build one frame; with ``mask_key`` (4 bytes) the payload is masked, as a client must."""
    first = (0x80 if fin else 0) | opcode
    mask_bit = 0x80 if mask_key else 0
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", first, mask_bit | n)
    elif n < 65536:
        head = struct.pack("!BBH", first, mask_bit | 126, n)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, n)
    if mask_key:
        return head + mask_key + apply_mask(payload, mask_key)
    return head + payload


def parse_frames(data: bytes) -> list[Frame]:
    """The complete frames at the start of ``data``, which must begin on a frame boundary.

    No HTTP head is expected; a trailing partial frame is left out (its bytes have not all
    arrived yet). Payloads stay as they were on the wire: use
    :meth:`Frame.unmasked_payload` for what the application sent.
    """
    pieces = FrameParser(handshake=False).feed(data, assemble=True)
    return [piece for piece in pieces if isinstance(piece, Frame)]


class FrameParser:
    """Follows the frames of one direction of a WebSocket connection.

    ``handshake=True`` means the stream starts with an HTTP head (request or response)
    that ends with an empty line; frames start after it. A head that is not an
    upgrade (a response other than ``101``) makes the stream opaque.
    """

    def __init__(self, *, handshake: bool = True, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self._state = _HANDSHAKE if handshake else _HEADER
        self._max_frame = max_frame
        self._head = bytearray()  # handshake bytes, or header bytes of the current frame
        self._need = 2  # header bytes needed (while in _HEADER)
        self._remaining = 0  # payload bytes left in the current frame
        self._assembling = False  # is the current frame being assembled?
        self._frame_header = b""
        self._payload = bytearray()
        #: Close frames whose header has gone by (counted in both modes).
        self.close_frames = 0

    @property
    def opaque(self) -> bool:
        """True once the stream has shown it is not (or no longer) WebSocket frames."""
        return self._state == _OPAQUE

    @property
    def in_frames(self) -> bool:
        """True once the handshake is over and frames are being followed."""
        return self._state in (_HEADER, _PAYLOAD)

    def feed(self, data: bytes, *, assemble: bool = False) -> list[Raw | Frame]:
        """Consume ``data``; return it as pieces to forward, in order."""
        out: list[Raw | Frame] = []
        view = memoryview(data)
        pos = 0
        end = len(data)
        mid_assembly = self._assembling and (self._state == _PAYLOAD or bool(self._head))
        # Start of the pending run of raw bytes, or None while bytes go into a frame.
        raw_start: int | None = None if mid_assembly else 0

        while pos < end:
            state = self._state
            if state == _OPAQUE:
                pos = end
                break
            if state == _PAYLOAD:
                take = min(self._remaining, end - pos)
                if self._assembling:
                    self._payload += view[pos : pos + take]
                self._remaining -= take
                pos += take
                if self._remaining == 0:
                    self._state = _HEADER
                    if self._assembling:
                        out.append(Frame(self._frame_header, bytes(self._payload)))
                        self._payload = bytearray()
                        self._assembling = False
                        raw_start = pos
                continue
            if state == _HEADER:
                if not self._head:
                    # A frame starts here: decide now whether to assemble it.
                    self._assembling = assemble
                    self._need = 2
                    if assemble and raw_start is not None:
                        _append_raw(out, view[raw_start:pos])
                        raw_start = None
                take = min(self._need - len(self._head), end - pos)
                self._head += view[pos : pos + take]
                pos += take
                if self._need == 2 and len(self._head) == 2:
                    self._need = header_length(self._head)
                if len(self._head) < self._need:
                    continue
                header = bytes(self._head)
                self._head.clear()
                length = payload_length(header)
                self._frame_header = header
                if header[0] & 0x0F == OP_CLOSE:
                    self.close_frames += 1
                self._remaining = length
                if self._assembling and length > self._max_frame:
                    # Too big to hold: the header goes out raw now, the payload as it comes.
                    _append_raw(out, header)
                    self._assembling = False
                    raw_start = pos
                if length == 0:
                    if self._assembling:
                        out.append(Frame(header, b""))
                        self._assembling = False
                        raw_start = pos
                else:
                    self._state = _PAYLOAD
                continue
            pos = self._feed_handshake(view, pos, end)

        if raw_start == 0 and not out:
            return [Raw(data)]  # the common pass-through case: no copy
        if raw_start is not None:
            _append_raw(out, view[raw_start:end])
        return out

    def _feed_handshake(self, view: memoryview, pos: int, end: int) -> int:
        """Consume handshake bytes; return the position after what was consumed."""
        before = len(self._head)
        self._head += view[pos:end]
        marker = self._head.find(b"\r\n\r\n", max(0, before - 3))
        if marker < 0:
            if len(self._head) > MAX_HANDSHAKE or not _looks_like_http(self._head):
                self._state = _OPAQUE
                self._head.clear()
            return end
        head_end = marker + 4
        head = bytes(self._head[:head_end])
        self._head.clear()
        consumed = head_end - before
        if head.startswith(b"HTTP/") and head[9:12] != b"101":
            self._state = _OPAQUE
        elif not _looks_like_http(head):
            self._state = _OPAQUE
        else:
            self._state = _HEADER
        return pos + consumed


def _append_raw(out: list[Raw | Frame], data: bytes | memoryview) -> None:
    """Append raw bytes, merging with a raw piece just before."""
    if not data:
        return
    if out and isinstance(out[-1], Raw):
        out[-1] = Raw(out[-1].data + bytes(data))
    else:
        out.append(Raw(bytes(data)))


def _looks_like_http(head: bytes | bytearray) -> bool:
    """A cheap check on the first bytes: an HTTP request line or status line."""
    prefix = bytes(head[:8])
    candidates = (b"GET ", b"HTTP/")
    return any(c.startswith(prefix[: len(c)]) or prefix.startswith(c) for c in candidates)
