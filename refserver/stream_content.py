"""Deterministic stream content: the same request always yields the same bytes.

A stream request names a ``kind`` (``text``, ``json`` or ``multipart``), a ``size`` in
bytes, a ``chunk_size`` and a ``seed``. :func:`generate` turns it into the list of chunks
the server sends (each with the component it belongs to, for multi-part streams) and the
SHA-256 of the whole payload. A client never needs this module to verify a stream (the
end message declares the hash), but tests may use it to know the original exactly.

All content is ASCII, so a chunk's length in characters is its length in bytes.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from typing import Any

KINDS = ("text", "json", "multipart")
MAX_SIZE = 16 * 1024 * 1024
MAX_CHUNK_SIZE = 256 * 1024

_WORDS = (
    "stream chunk resume window epoch replay buffer socket server client frame ack seq "
    "payload latency jitter recover reconnect cut network packet order gap duplicate "
    "verify digest schema document component agent token session retry backoff cap "
    "limit timeout delivery exactly once intact partial signal proxy bandwidth route"
).split()

#: JSON Schema (draft 2020-12) of the document a ``json`` stream carries.
DOCUMENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "title", "items"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^doc-[0-9]+$"},
        "title": {"type": "string"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["n", "word", "value", "tags"],
                "additionalProperties": False,
                "properties": {
                    "n": {"type": "integer", "minimum": 0},
                    "word": {"type": "string"},
                    "value": {"type": "number"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}

#: Components of a multi-part stream when the request names none: (name, kind).
DEFAULT_COMPONENTS: tuple[tuple[str, str], ...] = (
    ("summary", "text"),
    ("data", "json"),
    ("code", "code"),
)


@dataclass(frozen=True)
class Chunk:
    """One chunk of a stream: its text, and the component it belongs to (multi-part)."""

    data: str
    component: str | None = None


@dataclass(frozen=True)
class Content:
    """A generated stream: chunks in order, the SHA-256 of their concatenation, sizes."""

    kind: str
    chunks: list[Chunk]
    sha256: str
    size: int
    components: list[dict[str, Any]]
    schema: dict[str, Any] | None


#: One word per byte value, so random bytes (drawn in C) pick words without a Python call each.
_WORD_OF_BYTE = tuple(_WORDS[b % len(_WORDS)] for b in range(256))


def text(size: int, seed: int) -> str:
    """``size`` ASCII characters of words, the same for the same seed."""
    rng = random.Random(seed)
    # Words average 6 characters with their space: draw about what is needed, then top up.
    out = " ".join(map(_WORD_OF_BYTE.__getitem__, rng.randbytes(size // 5 + 8)))
    while len(out) < size:
        out += " " + " ".join(map(_WORD_OF_BYTE.__getitem__, rng.randbytes(size // 40 + 8)))
    return out[:size]


def code(size: int, seed: int) -> str:
    """``size`` characters of Python-looking lines."""
    rng = random.Random(seed)
    lines = []
    total = 0
    n = 0
    while total < size:
        a, b = rng.sample(_WORDS, 2)
        line = f"def {a}_{n}({b}):\n    return {b} * {rng.randint(1, 99)}\n"
        lines.append(line)
        total += len(line)
        n += 1
    return "".join(lines)[:size]


def document(size: int, seed: int) -> str:
    """A JSON document valid against :data:`DOCUMENT_SCHEMA`, about ``size`` bytes long.

    A document cannot be cut at an arbitrary byte and stay valid, so its length is the
    smallest whole document of at least ``size`` bytes (the exact length is declared).
    """
    rng = random.Random(seed)
    doc: dict[str, Any] = {"id": f"doc-{seed}", "title": text(40, seed), "items": []}
    items = doc["items"]
    length = len(json.dumps(doc, separators=(",", ":")))
    while length < size:
        item = {
            "n": len(items),
            "word": rng.choice(_WORDS),
            "value": round(rng.uniform(-1000, 1000), 3),
            "tags": rng.sample(_WORDS, 2),
        }
        items.append(item)
        length += len(json.dumps(item, separators=(",", ":"))) + 1
    return json.dumps(doc, separators=(",", ":"))


def _split(data: str, chunk_size: int, component: str | None) -> list[Chunk]:
    return [Chunk(data[i:i + chunk_size], component) for i in range(0, len(data), chunk_size)]


def generate(request: dict[str, Any]) -> Content:
    """The content for a stream request; raises ``ValueError`` on a bad request."""
    kind = str(request.get("kind", "text"))
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    size = int(request.get("size", 16 * 1024))
    chunk_size = int(request.get("chunk_size", 1024))
    seed = int(request.get("seed", 0))
    if not 1 <= size <= MAX_SIZE:
        raise ValueError(f"size must be 1..{MAX_SIZE} bytes, got {size}")
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be 1..{MAX_CHUNK_SIZE} bytes, got {chunk_size}")
    schema = None
    components: list[dict[str, Any]] = []
    if kind == "text":
        chunks = _split(text(size, seed), chunk_size, None)
    elif kind == "json":
        chunks = _split(document(size, seed), chunk_size, None)
        schema = DOCUMENT_SCHEMA
    else:
        wanted = request.get("components") or [list(c) for c in DEFAULT_COMPONENTS]
        parts = [(str(c[0]), str(c[1])) for c in wanted]
        if len({name for name, _ in parts}) != len(parts):
            raise ValueError("component names must be unique")
        each = max(1, size // len(parts))
        chunks = []
        for i, (name, part_kind) in enumerate(parts):
            makers = {"text": text, "json": document, "code": code}
            if part_kind not in makers:
                raise ValueError(f"component kind must be text, json or code, got {part_kind!r}")
            body = makers[part_kind](each, seed + i)
            part_chunks = _split(body, chunk_size, name)
            components.append({
                "name": name, "kind": part_kind, "chunks": len(part_chunks),
                "sha256": hashlib.sha256(body.encode()).hexdigest(),
            })
            chunks.extend(part_chunks)
    payload = "".join(c.data for c in chunks).encode()
    return Content(kind, chunks, hashlib.sha256(payload).hexdigest(), len(payload), components, schema)
