"""What a session records per stream: its request, assembly and each recovery, timed.

A :class:`TrackedStream` is one stream a :class:`~wsresilience.core.streams.session.StreamSession`
receives; each cut adds a :class:`Recovery` that the session fills in as the reconnect,
the resume and the end arrive (monotonic seconds). The keywords judge these; the evidence
layer draws them.

Where each resume started is part of the stream's integrity, not only of one check: the
client told the service its last seq, so every resume must replay from exactly that seq + 1.
A resume that skips a chunk can be *healed* by a later one (the client still asks after its
last contiguous seq, so the next resume replays what was skipped), and one that repeats is
hidden by the assembler, which drops exact repeats: in both cases the assembled stream is
whole and its hash matches. :meth:`TrackedStream.resume_problems` names each misplaced
resume by its cut number and seqs, and :meth:`TrackedStream.problems` puts them first, so
every check of a resumed stream fails on one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wsresilience.core.streams.adapter import Refused, StreamRequest
from wsresilience.core.streams.assembly import StreamAssembly, not_intact


@dataclass
class Recovery:
    """One cut and what followed it, for one stream (monotonic seconds)."""

    cut_at: float
    last_seq: int
    how: str = "abort"
    connected_at: float | None = None
    attempts: int = 0
    resume_sent_at: float | None = None
    resumed_from: int | None = None
    first_chunk_at: float | None = None
    first_seq: int | None = None
    completed_at: float | None = None
    #: Whether the service restored the session (a connection-level resume, Socket.IO's
    #: ``recovered``); ``None`` for a resume per stream.
    recovered: bool | None = None
    #: How long the client stayed away on purpose before reconnecting (seconds).
    away_s: float = 0.0

    @property
    def reconnect_s(self) -> float | None:
        """Cut → new connection open, less the time the client stayed away on purpose."""
        return None if self.connected_at is None else self.connected_at - self.cut_at - self.away_s

    @property
    def resume_s(self) -> float | None:
        if self.first_chunk_at is None or self.connected_at is None:
            return None
        return self.first_chunk_at - self.connected_at

    def misplaced(self, cut: int) -> list[str]:
        """What was wrong with where this resume started (``cut`` is its number, from 1).

        Two things are checked against ``last_seq + 1``: the seq the service announced it
        would replay from (if the protocol announces one) and the first chunk that arrived.
        """
        expected = self.last_seq + 1
        found = []
        if self.resumed_from is not None and self.resumed_from != expected:
            found.append(f"cut {cut}: the service announced the resume after seq {self.last_seq} "
                         f"from seq {self.resumed_from} (expected {expected})")
        if self.first_seq is not None and self.first_seq != expected:
            found.append(f"cut {cut}: the resume after seq {self.last_seq} replayed from seq "
                         f"{self.first_seq} (expected {expected})")
        return found


@dataclass
class TrackedStream:
    """A stream the session receives: its request, id, assembly and recoveries."""

    name: str
    request: StreamRequest
    stream_id: str = ""
    epoch: str = ""
    assembly: StreamAssembly = field(default_factory=StreamAssembly)
    started_at: float = 0.0
    #: When the end message arrived (complete or not: a gap shows in the verification).
    ended_at: float | None = None
    completed_at: float | None = None
    recoveries: list[Recovery] = field(default_factory=list)
    acked: int = 0
    refused: Refused | None = None
    cut_after: int | None = None

    @property
    def recovering(self) -> Recovery | None:
        """The latest recovery still waiting for its first resumed chunk."""
        if self.recoveries and self.recoveries[-1].first_chunk_at is None:
            return self.recoveries[-1]
        return None

    def resume_problems(self) -> list[str]:
        """Every resume that did not start at its last seq + 1, by cut number; empty if none."""
        return [problem for cut, r in enumerate(self.recoveries, start=1) for problem in r.misplaced(cut)]

    def problems(self) -> list[str]:
        """Misplaced resumes first (the cause), then what is wrong with the assembled stream."""
        return self.resume_problems() + self.assembly.problems()

    def failure(self) -> str | None:
        """The first problem (and how many more) in one line, or ``None`` when intact."""
        return not_intact(self.name, self.problems())
