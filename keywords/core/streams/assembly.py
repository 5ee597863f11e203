"""Assembling a chunked stream and verifying it: each chunk exactly once, in order, intact.

:class:`StreamAssembly` takes chunks as they arrive (``seq``, data, component), over as many
connections as the stream needed, and keeps each seq once. What arrived twice is counted,
not assembled: delivery on the wire may repeat, the assembled result must not. A repeat with
*different* data is a conflict and always fails.

:meth:`StreamAssembly.problems` lists everything wrong, most telling first, each one line
naming the first missing or duplicated seq or the missing component:

- the end message never came, or chunks arrived beyond the count it declared;
- a gap (``first missing seq``), a duplicate (with ``strict_duplicates``), a conflict;
- order: a seq arrived after a higher one on the same connection;
- the byte count differs from the size announced at the start (a truncated stream);
- the SHA-256 of the whole payload (and of each component) differs from the declared one;
- a JSON document that does not parse or does not match its schema;
- a component missing, twice, or out of order.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from jsonschema import Draft202012Validator

from wsresilience.errors import ResilienceFailure


class Arrival(NamedTuple):
    """One chunk as it arrived: seq, monotonic time, size, on which connection.

    A named tuple, not a frozen dataclass: one is made per chunk, and a tuple is built
    several times faster (the ingest path, see bench/resume.py).
    """

    seq: int
    t: float
    size: int
    connection: int
    replay: bool = False
    component: str | None = None


@dataclass
class EndInfo:
    """What the end message declared."""

    chunks: int
    sha256: str
    size: int | None = None
    components: list[dict[str, Any]] = field(default_factory=list)


class StreamAssembly:
    """The chunks of one stream, assembled by seq, with what went wrong on the way."""

    def __init__(
        self,
        kind: str = "text",
        announced_size: int | None = None,
        schema: dict[str, Any] | None = None,
        components: list[str] | None = None,
        strict_duplicates: bool = False,
    ) -> None:
        self.kind = kind
        self.announced_size = announced_size
        self.schema = schema
        self.components = list(components or [])
        self.strict_duplicates = strict_duplicates
        self.chunks: dict[int, str] = {}
        self.chunk_components: dict[int, str | None] = {}
        self.arrivals: list[Arrival] = []
        self.duplicates: list[int] = []
        self.conflicts: list[int] = []
        self.out_of_order: list[tuple[int, int]] = []
        self.end: EndInfo | None = None
        self.bytes_received = 0
        self._contiguous = 0
        self._last_on_connection: dict[int, int] = {}

    # -- receiving ----------------------------------------------------------------------

    def add(self, seq: int, data: str, component: str | None = None, connection: int = 0,
            t: float | None = None, replay: bool = False) -> bool:
        """Take one chunk; returns whether it was new (not a repeat)."""
        size = len(data)
        self.arrivals.append(Arrival(seq, time.monotonic() if t is None else t, size, connection, replay,
                                     component))
        self.bytes_received += size
        chunks = self.chunks
        last = self._last_on_connection.get(connection)
        if last is None:
            self._last_on_connection[connection] = seq if seq > 0 else 0
        elif seq > last:
            self._last_on_connection[connection] = seq
        elif seq < last and seq not in chunks:
            self.out_of_order.append((seq, last))
        if seq in chunks:
            (self.duplicates if chunks[seq] == data else self.conflicts).append(seq)
            return False
        chunks[seq] = data
        self.chunk_components[seq] = component
        if seq == self._contiguous + 1:
            contiguous = seq
            while contiguous + 1 in chunks:
                contiguous += 1
            self._contiguous = contiguous
        return True

    def finish(self, end: EndInfo) -> None:
        """Record the end message."""
        self.end = end

    @property
    def last_contiguous(self) -> int:
        """The highest seq with every seq before it received: what a resume asks after."""
        return self._contiguous

    @property
    def received(self) -> int:
        """How many distinct seqs arrived."""
        return len(self.chunks)

    @property
    def complete(self) -> bool:
        """The end arrived and every seq up to its count is here."""
        return self.end is not None and self._contiguous >= self.end.chunks

    def payload(self) -> str:
        """The assembled payload: chunks 1 … last contiguous, in seq order."""
        return "".join(self.chunks[s] for s in range(1, self._contiguous + 1))

    def component_payload(self, name: str) -> str:
        """The assembled chunks of one component."""
        return "".join(self.chunks[s] for s in range(1, self._contiguous + 1)
                       if self.chunk_components.get(s) == name)

    # -- verifying ----------------------------------------------------------------------

    def first_missing(self) -> int | None:
        """The first seq missing up to the declared count (or the highest seen)."""
        top = self.end.chunks if self.end is not None else max(self.chunks, default=0)
        for seq in range(1, top + 1):
            if seq not in self.chunks:
                return seq
        return None

    def problems(self) -> list[str]:
        """Everything wrong with the stream, most telling first; empty when intact."""
        found: list[str] = []
        if self.conflicts:
            found.append(f"seq {self.conflicts[0]} arrived twice with different data "
                         f"({len(self.conflicts)} conflicting repeat(s))")
        if self.strict_duplicates and self.duplicates:
            found.append(f"first duplicated seq {self.duplicates[0]} "
                         f"({len(self.duplicates)} duplicate chunk(s))")
        missing = self.first_missing()
        if missing is not None:
            top = self.end.chunks if self.end is not None else max(self.chunks, default=0)
            count = sum(1 for s in range(1, top + 1) if s not in self.chunks)
            found.append(f"first missing seq {missing} ({count} of {top} missing)")
        if self.out_of_order:
            seq, after = self.out_of_order[0]
            found.append(f"out of order: seq {seq} arrived after seq {after}")
        if self.end is None:
            found.append(f"the stream never ended (last contiguous seq {self._contiguous}, "
                         f"{self.received} chunks received)")
            return found
        beyond = sorted(s for s in self.chunks if s > self.end.chunks)
        if beyond:
            found.append(f"seq {beyond[0]} arrived beyond the declared end of "
                         f"{self.end.chunks} chunks")
        if missing is not None:
            return found
        payload = self.payload().encode()
        if self.announced_size is not None and len(payload) != self.announced_size:
            found.append(f"truncated: assembled {len(payload)} bytes, but the stream was "
                         f"announced as {self.announced_size} bytes")
        digest = hashlib.sha256(payload).hexdigest()
        if digest != self.end.sha256:
            found.append(f"SHA-256 mismatch: assembled {digest[:16]}…, declared "
                         f"{self.end.sha256[:16]}…{self._first_bad_component()}")
        if self.kind == "json":
            found.extend(self._json_problems(payload))
        if self.components or self.end.components:
            found.extend(self._component_problems())
        return found

    def _first_bad_component(self) -> str:
        for declared in self.end.components if self.end else []:
            body = self.component_payload(declared["name"]).encode()
            if hashlib.sha256(body).hexdigest() != declared.get("sha256"):
                return f" (component {declared['name']!r} differs)"
        return ""

    def _json_problems(self, payload: bytes) -> list[str]:
        try:
            document = json.loads(payload)
        except ValueError as exc:
            return [f"the JSON document does not parse: {exc}"]
        if self.schema is None:
            return []
        error = next(iter(Draft202012Validator(self.schema).iter_errors(document)), None)
        if error is None:
            return []
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        return [f"the JSON document does not match its schema at {where}: {error.message}"]

    def _component_problems(self) -> list[str]:
        declared = self.end.components if self.end is not None else []
        expected = self.components or [c["name"] for c in declared]
        runs: list[str] = []
        for seq in range(1, self._contiguous + 1):
            name = self.chunk_components.get(seq)
            if name is not None and (not runs or runs[-1] != name):
                runs.append(name)
        found: list[str] = []
        for name in expected:
            if name not in runs:
                found.append(f"component {name!r} is missing")
        twice = sorted({n for n in runs if runs.count(n) > 1})
        if twice:
            found.append(f"component {twice[0]!r} arrived in more than one part")
        present = [n for n in expected if n in runs]
        order = [n for n in dict.fromkeys(runs) if n in expected]
        if not found and order != present:
            found.append(f"components out of order: {', '.join(order)} (expected "
                         f"{', '.join(present)})")
        unexpected = [n for n in dict.fromkeys(runs) if n not in expected]
        if unexpected:
            found.append(f"unexpected component {unexpected[0]!r}")
        for declared in self.end.components if self.end else []:
            if declared["name"] in runs:
                count = sum(1 for s in range(1, self._contiguous + 1)
                            if self.chunk_components.get(s) == declared["name"])
                if count != declared.get("chunks", count):
                    found.append(f"component {declared['name']!r} has {count} chunks, "
                                 f"declared {declared['chunks']}")
        return found

    def failure(self, name: str = "stream") -> str | None:
        """The first problem (and how many more) in one line, or ``None`` when intact."""
        return not_intact(name, self.problems())

    def verify(self, name: str = "stream") -> None:
        """Fail with the first problem (and how many more) unless the stream is intact."""
        failure = self.failure(name)
        if failure is not None:
            raise ResilienceFailure(failure)


def not_intact(name: str, found: list[str]) -> str | None:
    """``found`` problems of stream ``name`` as one failure line (the first, then how many
    more and what), or ``None`` when there are none."""
    if not found:
        return None
    more = f" (+{len(found) - 1} more: {'; '.join(found[1:])})" if len(found) > 1 else ""
    return f"Stream {name!r} is not intact: {found[0]}{more}."
