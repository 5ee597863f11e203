"""HTML evidence about connections: summary rows, latency tables, event timelines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from wsresilience.core.evidence.charts import Lane, histogram, timeline_chart
from wsresilience.core.evidence.figures import html_table
from wsresilience.core.stats import LatencyStats

if TYPE_CHECKING:
    from wsresilience.core.client.connection import ObservedConnection

#: Events of these kinds are summarised, not listed one by one, in timelines.
_CHATTY = {"heartbeat ping", "heartbeat pong"}


def latency_table(stats: LatencyStats, caption: str) -> str:
    """min, mean, p50, p95, p99, max and jitter in one row (milliseconds)."""
    return html_table(
        ["samples", "min ms", "mean ms", "p50 ms", "p95 ms", "p99 ms", "max ms", "jitter ms"],
        [[stats.count, stats.min, stats.mean, stats.p50, stats.p95, stats.p99, stats.max, stats.jitter]],
        caption,
    )


def connection_summary(conns: Sequence[ObservedConnection], rtts_ms: Sequence[Sequence[float]]) -> str:
    """One row per connection: behaviour, state, ping/pong counts, RTT, how it ended.

    ``rtts_ms`` holds each connection's round-trip times, in the order of ``conns``, as
    snapshotted on the loop (:func:`wsresilience.core.client.observe.rtt_samples`).
    """
    rows = []
    for c, samples in zip(conns, rtts_ms, strict=True):
        rtt = LatencyStats.of(samples)
        silent_for = (
            (c.terminated_at - c.silent_since)
            if c.terminated_at is not None and c.silent_since is not None
            else None
        )
        rows.append([
            c.name, c.behaviour.value, c.state.value,
            c.events.count("ping received"), c.events.count("pong sent"),
            c.events.count("pong suppressed"), rtt.count,
            "" if rtt.count == 0 else round(rtt.p95, 2),
            f"{c.close_code} {c.close_reason}".strip() if c.close_code else "",
            c.termination,
            "" if silent_for is None else round(silent_for, 3),
        ])
    return html_table(
        ["connection", "behaviour", "state", "pings received", "pongs sent", "pongs suppressed",
         "RTT samples", "RTT p95 ms", "close seen", "terminated by", "silent → terminated s"],
        rows,
        "Heartbeat health report",
    )


def timeline_table(conn: ObservedConnection) -> str:
    """The connection's events with times relative to its first event."""
    events = conn.events.snapshot()
    if not events:
        return ""
    t0 = events[0].t
    rows: list[list[object]] = []
    skipped = 0
    for e in events:
        if e.kind in _CHATTY:
            skipped += 1
            continue
        rows.append([f"{(e.t - t0) * 1000:.1f}", e.kind, e.detail])
    caption = f"Timeline of {conn.name} ({conn.target})"
    if skipped:
        caption += f"; {skipped} client heartbeat events summarised in the RTT table"
    dropped = conn.events.dropped
    if dropped:
        caption += f"; {dropped} earlier ping/pong events counted in the health report, not listed"
    return html_table(["t ms", "event", "detail"], rows, caption)


#: Event kinds drawn as markers on the timeline chart, and the marker kind they map to.
_MARKED = {
    "ping received": "ping",
    "pong sent": "pong",
    "pong suppressed": "pong suppressed",
    "close received": "close",
    "server unresponsive": "missed pong",
}


def timeline_lanes(conns: list[ObservedConnection]) -> tuple[list[Lane], float]:
    """Chart lanes (state segments and marked events) and the common start time."""
    t0 = min((c.events.snapshot()[0].t for c in conns if len(c.events)), default=0.0)
    lanes = []
    for c in conns:
        events = c.events.snapshot()
        segments: list[tuple[float, float | None, str]] = []
        marks: list[tuple[float, str, str]] = []
        for e in events:
            if e.kind == "state":
                state = e.detail.split(":", 1)[0]
                if segments:
                    start, _, previous = segments[-1]
                    segments[-1] = (start, e.t, previous)
                segments.append((e.t, None, state))
            elif e.kind in _MARKED:
                label = f"close {e.detail}" if e.kind == "close received" else e.kind
                marks.append((e.t, _MARKED[e.kind], label))
        lanes.append(Lane(f"{c.name} ({c.behaviour.value})", segments, marks))
    return lanes, t0


def timeline_svg(conns: list[ObservedConnection], bound_s: float | None = None) -> str:
    """The SVG state timeline of ``conns``, with a termination bound mark when given."""
    lanes, t0 = timeline_lanes(conns)
    marks = []
    if bound_s is not None:
        starts = [c.silent_since for c in conns if c.silent_since is not None]
        if starts:
            marks.append((max(starts) + bound_s, f"bound {bound_s:.2f} s after silence"))
    return timeline_chart(lanes, "Connection states and heartbeat events", t0=t0, marks=marks)


def rtt_histogram_svg(samples_ms: list[float], threshold_ms: float | None = None) -> str:
    """Histogram of client-measured RTTs with p50/p95/p99 and the threshold line."""
    thresholds = [(threshold_ms, f"p95 bound {threshold_ms:g} ms")] if threshold_ms else []
    return histogram(samples_ms, "Client-measured round-trip time", "ms", thresholds=thresholds,
                     x_label="round-trip time")
