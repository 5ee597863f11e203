"""Realistic sample data for the evidence charts, shared by the browser test and previews."""

from __future__ import annotations

import random

from wsresilience.core.evidence.charts import (
    Lane, cycles_chart, histogram, line_chart, resume_chart, timeline_chart,
)


def heartbeat_lanes(count: int = 6, seed: int = 7) -> list[Lane]:
    """Connections pinged every 0.5 s; every third one goes silent at 1.0 s and is reaped."""
    rng = random.Random(seed)
    lanes = []
    for i in range(count):
        start = 0.02 * i
        opened = start + rng.uniform(0.005, 0.02)
        silent = i % 3 == 1
        end = 1.0 + 0.5 + 0.5 + rng.uniform(0.0, 0.05) if silent else 3.0
        segments = [(start, opened, "CONNECTING")]
        events = []
        if silent:
            segments += [(opened, 1.0, "OPEN"), (1.0, end, "SILENT"), (end, end + 0.1, "TERMINATED"), (end + 0.1, 3.0, "CLOSED")]
        else:
            segments += [(opened, 3.0, "OPEN")]
        t = opened + 0.5
        while t < end:
            events.append((t, "ping received", f"ping #{len(events) // 2 + 1}"))
            kind = "pong suppressed" if silent and t > 1.0 else "pong sent"
            events.append((t + 0.001, kind, kind))
            t += 0.5
        if silent:
            events.append((end, "close", "close 1011 keepalive ping timeout"))
        lanes.append(Lane(f"conn-{i + 1:02d}", segments, events))
    return lanes


def sample_charts() -> dict[str, str]:
    """One of each chart, with thresholds and marks, keyed by a short name."""
    rng = random.Random(3)
    rtts = [max(0.05, rng.lognormvariate(-0.3, 0.45)) for _ in range(500)]
    flapping = {
        "open connections": [(t / 2, 10 if t % 3 else 4) for t in range(0, 60)],
        "agents": [(t / 2, 10 if t % 3 else 6) for t in range(0, 60)],
        "RSS (MiB)": [(t / 2, 31 + min(t, 8) * 0.4 + rng.uniform(-0.2, 0.2)) for t in range(0, 60)],
    }
    chunks = [(0.01 * s, s, "live") for s in range(1, 41)]
    chunks += [(0.95 + 0.004 * (s - 40), s, "replayed") for s in range(40, 46)]
    chunks[-6] = (0.95, 40, "duplicate")
    chunks += [(0.98 + 0.01 * (s - 45), s, "live") for s in range(46, 101)]
    return {
        "timeline": timeline_chart(
            heartbeat_lanes(6), "Heartbeat timeline: 6 connections, 2 silent",
            marks=[(1.0, "silent at 1.0 s"), (2.25, "bound 2.25 s")],
        ),
        "timeline50": timeline_chart(
            heartbeat_lanes(50), "Heartbeat timeline under load: 50 connections",
            marks=[(2.25, "bound 2.25 s")],
        ),
        "line": line_chart(
            flapping, "Server resources during flapping", "time (s)", "count",
            thresholds=[(10, "max 10 agents"), (41, "RSS warm-up + 10 MiB", "right")],
            y2_label="RSS (MiB)", y2_series=["RSS (MiB)"],
        ),
        "histogram": histogram(rtts, "Client RTT", "ms", thresholds=[(2.5, "p95 bound 2.5 ms"), (100, "p95 < 100 ms")],
                               x_label="round-trip time"),
        "resume": resume_chart(
            chunks, "Stream resume: cut after seq 40",
            marks=[(0.405, "cut after seq 40"), (0.93, "reconnect"), (0.954, "first resumed chunk"),
                   (5.405, "recovery bound 5000 ms")],
        ),
        "cycles": cycles_chart(
            [(n, 0.4 + 0.05 * (n % 4) + (0.6 if n == 13 else 0.0), n != 13) for n in range(1, 21)],
            "History retrieval per reconnect cycle (20 cycles)", 1000.0, bound_label="p95 bound",
        ),
    }
