"""Evidence for resumed streams: the resume chart, the tables, and the figures judged.

The stream keywords measure through :class:`~wsresilience.core.streams.session.StreamSession`;
this module turns what it recorded into evidence for log.html and into the
:class:`~wsresilience.core.evidence.figures.Figure` lists the keywords judge. It words no
failure and raises nothing: that is the keywords' job.

The chart is :func:`wsresilience.core.evidence.charts.resume_chart`, the one resume chart of the
library. A stream's chunks are drawn by seq over seconds since the stream started:

* ``live``: delivered on the connection the stream started on;
* ``replayed``: delivered on a connection that resumed the stream (the replay of what the
  cut lost, and what followed it);
* ``duplicate``: a seq the client already had (the assembler drops it; the wire check
  `Resume Should Continue Right After The Last Chunk` does not forgive it).

The marks are the cuts, the reconnects, each recovery's first resumed chunk and the
total-recovery bound after the first cut.
"""

from __future__ import annotations

from wsresilience.core.evidence.charts import Mark, resume_chart
from wsresilience.core.evidence.figures import Figure, html_table
from wsresilience.core.streams.backoff import RetryLog
from wsresilience.core.streams.tracked import Recovery, TrackedStream

NAN = float("nan")


# -- the chart and the tables ------------------------------------------------------------------


def chunk_points(stream: TrackedStream) -> list[tuple[float, int, str]]:
    """Every arrival as ``(seconds since the stream started, seq, kind)``."""
    seen: set[int] = set()
    points = []
    for a in stream.assembly.arrivals:
        kind = "duplicate" if a.seq in seen else "replayed" if a.replay else "live"
        seen.add(a.seq)
        points.append((a.t - stream.started_at, a.seq, kind))
    return points


def recovery_marks(stream: TrackedStream, recovery_bound_s: float | None = None) -> list[Mark]:
    """Cuts, reconnects and first resumed chunks, and the bound after the first cut.

    A single recovery gets labels with its seqs; with several, each kind of mark has one
    label (the chart writes a repeated label once and draws the other lines unlabelled).
    """
    t0 = stream.started_at
    one = len(stream.recoveries) == 1
    marks: list[Mark] = []
    for r in stream.recoveries:
        marks.append((r.cut_at - t0, f"cut after seq {r.last_seq}" if one else "cut"))
        if r.connected_at is not None:
            marks.append((r.connected_at - t0, "reconnected"))
        if r.first_chunk_at is not None:
            first = f"first resumed seq {r.first_seq}" if one and r.first_seq is not None else None
            marks.append((r.first_chunk_at - t0, first or "first resumed chunk"))
    if recovery_bound_s is not None and stream.recoveries:
        marks.append((stream.recoveries[0].cut_at - t0 + recovery_bound_s,
                      f"recovery bound {recovery_bound_s * 1000:.0f} ms"))
    return marks


def stream_resume_chart(stream: TrackedStream, recovery_bound_s: float | None = None) -> str:
    """The resume chart of one stream (SVG)."""
    a = stream.assembly
    title = f"Stream {stream.name}: {a.received} chunks, {len(stream.recoveries)} cut(s)"
    return resume_chart(chunk_points(stream), title, recovery_marks(stream, recovery_bound_s))


def recovery_table(stream: TrackedStream) -> str:
    """One row per cut: how, last seq, attempts, reconnect, resume, first seq, total (ms)."""

    def ms(v: float | None) -> object:
        return "—" if v is None else round(v * 1000, 2)

    rows: list[list[object]] = [
        [i, r.how, r.last_seq, r.attempts, ms(r.reconnect_s), ms(r.resume_s),
         r.first_seq if r.first_seq is not None else "—", resume_position(r, i), ms(total_recovery_s(r))]
        for i, r in enumerate(stream.recoveries, start=1)
    ]
    headers = ["cut", "how", "last seq", "attempts", "reconnect ms", "resume ms",
               "first resumed seq", "resume position", "total ms"]
    if any(r.recovered is not None for r in stream.recoveries):  # a connection-level resume (Socket.IO)
        headers.append("recovered")
        for row, r in zip(rows, stream.recoveries, strict=True):
            row.append("—" if r.recovered is None else "yes" if r.recovered else "no")
    return html_table(headers, rows, f"Recoveries of stream {stream.name!r}")


def resume_position(r: Recovery, cut: int) -> str:
    """``right`` when the resume started at last seq + 1, what was wrong when not, ``—`` when
    nothing was resumed (no answer or chunk arrived before the next cut or the end)."""
    if r.first_seq is None and r.resumed_from is None:
        return "—"
    wrong = r.misplaced(cut)
    return "; ".join(w.split(": ", 1)[1] for w in wrong) if wrong else "right"


def attempts_table(session: str, log: RetryLog) -> str:
    """Every connect attempt of one retry: number, delay before it, error."""
    rows: list[list[object]] = [[a.number, round(a.delay * 1000, 1), a.error or "ok"]
                                for a in log.attempts]
    return html_table(["attempt", "delay before (ms)", "error"], rows,
                      f"Connect attempts of session {session!r}")


def backoff_table(log: RetryLog) -> str:
    """The schedule of one retry: ceiling, planned and measured delay per attempt (ms)."""
    rows: list[list[object]] = [
        [n, round(log.policy.ceiling(n) * 1000, 1), round(p * 1000, 1), round(m * 1000, 1)]
        for n, (p, m) in enumerate(zip(log.planned_delays, log.measured_delays), start=2)
    ]
    return html_table(["attempt", "ceiling ms", "planned ms", "measured ms"], rows,
                      f"Backoff schedule: {log.policy.describe()}")


def positions_table(streams: list[TrackedStream]) -> str:
    """Per stream, its last resume: the seq at the cut, where the service resumed, the first seq."""
    rows: list[list[object]] = []
    for s in streams:
        r = s.recoveries[-1]
        rows.append([s.name, r.last_seq, r.resumed_from if r.resumed_from is not None else "—",
                     r.first_seq if r.first_seq is not None else "—"])
    return html_table(["stream", "last seq at the cut", "resumed from", "first seq replayed"],
                      rows, "Resume positions")


# -- figures -------------------------------------------------------------------------------------


def total_recovery_s(r: Recovery) -> float | None:
    """Cut to stream complete, or ``None`` if the stream never completed."""
    return None if r.completed_at is None else r.completed_at - r.cut_at


def integrity_figures(stream: TrackedStream, criterion: str = "") -> list[Figure]:
    """Distinct chunks against the declared count, missing, conflicting, misplaced resumes,
    other problems."""
    name, a = stream.name, stream.assembly
    problems = a.problems()
    return [
        Figure(f"{name}: distinct chunks assembled", a.received, "chunks",
               a.end.chunks if a.end else NAN, "==", criterion),
        Figure(f"{name}: chunks missing", (a.end.chunks - a.received) if a.end else NAN,
               "chunks", 0, "==", criterion),
        Figure(f"{name}: conflicting repeats", len(a.conflicts), "chunks", 0, "==", criterion),
        misplaced_resumes_figure(stream, criterion),
        Figure(f"{name}: problems found (hash, order, size, schema, components)",
               len(problems), "", 0, "==", criterion, note="; ".join(problems)),
    ]


def misplaced_resumes_figure(stream: TrackedStream, criterion: str = "") -> Figure:
    """Resumes that did not start at last seq + 1 (skipped or repeated), whatever came after."""
    misplaced = stream.resume_problems()
    return Figure(f"{stream.name}: resumes not starting at last seq + 1", len(misplaced), "resumes",
                  0, "==", criterion, note="; ".join(misplaced[:3]))


def resume_position_figures(stream: TrackedStream, criterion: str = "") -> list[Figure]:
    """Chunks delivered twice, resumes not at last seq + 1, and that a resume happened at all."""
    name, duplicates = stream.name, stream.assembly.duplicates
    resumes = [r for r in stream.recoveries if r.first_seq is not None]
    return [
        Figure(f"{name}: chunks delivered twice", len(duplicates), "chunks", 0, "==", criterion,
               note=f"first: seq {duplicates[0]}" if duplicates else ""),
        misplaced_resumes_figure(stream, criterion),
        Figure(f"{name}: resumes observed", len(resumes), "resumes", 1, ">=", criterion),
    ]


def own_position_figure(stream: TrackedStream, criterion: str = "") -> Figure:
    """Where the service said it resumed the stream's last recovery, against last seq + 1."""
    r = stream.recoveries[-1]
    announced = NAN if r.resumed_from is None else r.resumed_from
    return Figure(f"{stream.name}: resumed from seq", announced, "seq", r.last_seq + 1, "==",
                  criterion, note=f"own last seq {r.last_seq}")


def recovery_time_figures(stream: TrackedStream, reconnect_s: float, resume_s: float,
                          total_s: float, criterion: str = "") -> list[Figure]:
    """The slowest reconnect, resume and total recovery of the stream (ms) against their bounds."""
    name, recs = stream.name, stream.recoveries

    def worst(values: list[float | None]) -> float:
        return max((v for v in values if v is not None), default=NAN) * 1000

    return [
        Figure(f"{name}: reconnect time (max of {len(recs)})", worst([r.reconnect_s for r in recs]),
               "ms", reconnect_s * 1000, "<", criterion),
        Figure(f"{name}: resume time (max)", worst([r.resume_s for r in recs]), "ms",
               resume_s * 1000, "<", criterion),
        Figure(f"{name}: total recovery (max)", worst([total_recovery_s(r) for r in recs]),
               "ms", total_s * 1000, "<", criterion,
               note="cut to stream complete, including the chunks still to be produced"),
    ]


def retry_delay_figures(log: RetryLog, share: float, late_s: float, criterion: str = "") -> list[Figure]:
    """Each measured delay between attempts against its own planned delay, two figures each.

    A delay may end at most ``share`` of itself early, so one that never happened fails
    however short it was planned (a sleep does not end early; the share absorbs the
    clock's grain). It may end at most ``late_s`` late, or ``share`` of itself if that is
    more: the lateness a busy scheduler adds does not grow with the delay, so a fixed
    floor keeps short delays from failing on noise, and the share keeps long ones honest.
    """
    figures = []
    for n, (p, m) in enumerate(zip(log.planned_delays, log.measured_delays), start=2):
        ceiling = log.policy.ceiling(n)
        planned = f"planned {p * 1000:.1f} ms of ceiling {ceiling * 1000:.0f} ms"
        figures.append(Figure(f"delay before attempt {n}", m * 1000, "ms", p * (1 - share) * 1000, ">=",
                              criterion, note=f"{planned}; at most {share:.0%} of it early"))
        figures.append(Figure(f"delay before attempt {n}: later than planned", (m - p) * 1000, "ms",
                              max(late_s, share * p) * 1000, "<=", criterion,
                              note=f"{planned}; at most {late_s * 1000:g} ms or {share:.0%} late"))
    return figures


def planned_out_of_bounds(log: RetryLog) -> list[int]:
    """Attempts whose planned delay lies outside ``[0, ceiling]`` (a broken schedule)."""
    return [n for n, p in enumerate(log.planned_delays, start=2)
            if not 0 <= p <= log.policy.ceiling(n)]
