"""How stream chunks go on the wire: ``stream/1`` JSON messages and ``stream/2`` batch frames.

``stream/1`` sends each chunk as its own JSON text message (docs/protocol.md, section 8).
At 4 KiB chunks that is one ``json.dumps`` and one WebSocket frame per chunk, on both sides:
the protocol, not the bytes, caps the throughput. ``stream/2`` (section 8.1) sends the
chunks that are ready as one binary frame: a one-line JSON header naming every chunk's seq
and byte length, a newline, then the chunks' UTF-8 data back to back. The header names each
seq, so a client checks every chunk exactly as in ``stream/1`` (no gap, no repeat, in order);
the data needs no escaping and no parsing.

Everything else (start, resume, end, errors, acks) is the same JSON in both versions. The
client offers the versions it reads in its ``stream-start``; :func:`negotiate` picks one.
A leaf module: it knows nothing of the server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from json.encoder import encode_basestring_ascii

STREAM_1 = "stream/1"
STREAM_2 = "stream/2"
#: The versions this server speaks, preferred first.
PROTOCOLS = (STREAM_2, STREAM_1)
#: A ``stream/2`` frame carries at most this many chunks …
MAX_BATCH_CHUNKS = 64
#: … and stops adding chunks once it holds this many bytes of data (one chunk always fits).
MAX_BATCH_BYTES = 256 * 1024


def negotiate(offered: object) -> str:
    """The version to stream in: the first this server speaks of the client's ``protocols``
    (a list, preferred first); ``stream/1`` when the client offers none (every ``stream/1``
    client) or none this server speaks."""
    if isinstance(offered, list):
        for version in offered:
            if version in PROTOCOLS:
                return str(version)
    return STREAM_1


def chunk_message(stream_id: str, seq: int, data: str, component: str | None) -> str:
    """One ``stream/1`` chunk message, the same text as ``json.dumps`` with compact separators
    would give, without building a dict and an encoder for each chunk."""
    head = f'{{"type":"chunk","stream":{encode_basestring_ascii(stream_id)},"seq":{seq:d},"data":'
    if component is None:
        return f"{head}{encode_basestring_ascii(data)}}}"
    return f'{head}{encode_basestring_ascii(data)},"component":{encode_basestring_ascii(component)}}}'


def batch_frame(stream_id: str, chunks: Sequence[tuple[int, str, str | None]]) -> bytes:
    """One ``stream/2`` frame of ``chunks`` (seq, data, component), in the order given.

    Header: ``{"type": "chunks", "stream": ID, "seq": [...], "len": [...]}`` (UTF-8 byte
    lengths), plus ``"component": [...]`` when any chunk has one; then ``\\n`` and the data.
    """
    bodies = [data.encode() for _, data, _ in chunks]
    header: dict[str, object] = {"type": "chunks", "stream": stream_id,
                                 "seq": [seq for seq, _, _ in chunks], "len": [len(b) for b in bodies]}
    components = [component for _, _, component in chunks]
    if any(c is not None for c in components):
        header["component"] = components
    return b"".join(_framed(json.dumps(header, separators=(",", ":")).encode(), bodies))


def _framed(header: bytes, bodies: Iterable[bytes]) -> Iterable[bytes]:
    yield header
    yield b"\n"
    yield from bodies
