"""What a session records per stream: its request, assembly and each recovery, timed.

A :class:`TrackedStream` is one stream a :class:`~wsresilience.core.streams.session.StreamSession`
receives; each cut adds a :class:`Recovery` that the session fills in as the reconnect,
the resume and the end arrive (monotonic seconds). The keywords judge these; the evidence
layer draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wsresilience.core.streams.adapter import Refused, StreamRequest
from wsresilience.core.streams.assembly import StreamAssembly


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

    @property
    def reconnect_s(self) -> float | None:
        return None if self.connected_at is None else self.connected_at - self.cut_at

    @property
    def resume_s(self) -> float | None:
        if self.first_chunk_at is None or self.connected_at is None:
            return None
        return self.first_chunk_at - self.connected_at


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
    #: Seqs that arrived after a resume but were not the next expected one (wire level).
    resume_violations: list[str] = field(default_factory=list)

    @property
    def recovering(self) -> Recovery | None:
        """The latest recovery still waiting for its first resumed chunk."""
        if self.recoveries and self.recoveries[-1].first_chunk_at is None:
            return self.recoveries[-1]
        return None
