"""HTML evidence about connections: summary rows, latency tables, event timelines."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .evidence import html_table
from .stats import LatencyStats

if TYPE_CHECKING:
    from .connection import ObservedConnection

#: Events of these kinds are summarised, not listed one by one, in timelines.
_CHATTY = {"heartbeat ping", "heartbeat pong"}


def latency_table(stats: LatencyStats, caption: str) -> str:
    """min, mean, p50, p95, p99, max and jitter in one row (milliseconds)."""
    return html_table(
        ["samples", "min ms", "mean ms", "p50 ms", "p95 ms", "p99 ms", "max ms", "jitter ms"],
        [[stats.count, stats.min, stats.mean, stats.p50, stats.p95, stats.p99, stats.max, stats.jitter]],
        caption,
    )


def connection_summary(conns: list[ObservedConnection]) -> str:
    """One row per connection: behaviour, state, ping/pong counts, RTT, how it ended."""
    rows = []
    for c in conns:
        rtt = LatencyStats.of(c.rtts_ms)
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
    return html_table(["t ms", "event", "detail"], rows, caption)
