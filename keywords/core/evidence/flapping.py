"""Evidence for flapping runs and server resources: tables, figures and charts, as HTML/SVG.

Renders what :mod:`wsresilience.core.flapping` and :mod:`wsresilience.core.probes` measured: the run
summary, the resources over time, snapshots side by side, and the leak rule's figures.
Nothing here judges; the keyword components hand the figures to ``judge``.
"""

from __future__ import annotations

from collections.abc import Sequence

from wsresilience.core.evidence.charts import line_chart
from wsresilience.core.evidence.figures import Figure, html_table
from wsresilience.core.flapping.engine import FlapResult
from wsresilience.core.probes.leaks import GrowthVerdict
from wsresilience.core.probes.series import MB, Snapshot, scale_of

#: Count series drawn on the left axis of the scenario chart, in this order.
COUNT_SERIES: dict[str, str] = {
    "connections": "open connections",
    "authenticated_sessions": "authenticated sessions",
    "agents": "agent instances",
}
RSS_SERIES = "RSS (MB)"


def flap_summary_table(result: FlapResult) -> str:
    """Attempts, success rate, attempt rate, latency statistics and failures by cause."""
    plan = result.plan
    hs, auth = result.handshakes, result.auths
    rows: list[list[object]] = [
        ["clients × cycles", f"{plan.clients} × {plan.cycles}"],
        ["connected / disconnected", f"{plan.connected * 1000:g} ms / {plan.disconnected * 1000:g} ms"
                                     f"{f' ± {plan.jitter:.0%} (seed {plan.seed})' if plan.jitter else ''}"],
        ["disconnect", plan.disconnect.value],
        ["authenticated", "yes" if plan.authenticated else "no"],
        ["attempts", result.attempts],
        ["successes", result.successes],
        ["success rate (%)", round(result.success_rate, 2)],
        ["attempt rate (cycles/s)", round(result.cycles_per_s, 1)],
        ["duration (s)", round(result.duration, 3)],
    ]
    for name, stats in (("handshake", hs), ("auth round trip", auth)):
        if stats.count:
            rows.append([f"{name} ms: min / p50 / p95 / p99 / max",
                         " / ".join(f"{stats.get(s):.1f}" for s in ("min", "p50", "p95", "p99", "max"))])
    failures = result.failures_by_cause
    for cause, count in failures.items():
        rows.append([f"failed: {cause}", count])
    if not failures:
        rows.append(["failures", 0])
    return html_table(["figure", "value"], rows, "Flapping run")


def scenario_chart(samples: Sequence[Snapshot], agent_limit: float | None = None,
                   title: str = "Server resources during flapping") -> str:
    """Connections, sessions and agents (left axis) and RSS in MB (right axis) over time."""
    if not samples:
        return line_chart({}, title, "time since start (s)", "count")
    t0 = samples[0].t
    series: dict[str, list[tuple[float, float]]] = {}
    for key, name in COUNT_SERIES.items():
        points = [(s.t - t0, v) for s in samples if (v := s.get(key)) is not None]
        if points:
            series[name] = points
    rss = [(s.t - t0, v / MB) for s in samples if (v := s.get("rss_bytes")) is not None]
    if rss:
        series[RSS_SERIES] = rss
    thresholds = []
    if agent_limit is not None and "agent instances" in series:
        thresholds.append((agent_limit, f"at most one agent per user: {agent_limit:g}"))
    # RSS gets a 10 MB tall axis at least (the default growth tolerance): noise stays flat.
    return line_chart(series, title, "time since start (s)", "count",
                      thresholds, y2_label="RSS (MB)", y2_series=[RSS_SERIES], y2_min_span=10.0)


def growth_chart(verdicts: Sequence[GrowthVerdict], rss_unit_scale: float = MB) -> str:
    """Each judged resource per round; RSS in MB on the right with the post-warm-up bound."""
    series: dict[str, list[tuple[float, float]]] = {}
    thresholds: list[tuple] = []
    right: list[str] = []
    for v in verdicts:
        if v.resource == "rss_bytes":
            name = RSS_SERIES
            series[name] = [(float(i), x / rss_unit_scale) for i, x in enumerate(v.values)]
            right.append(name)
            bound = (v.values[v.warmup] + v.growth_tolerance) / rss_unit_scale
            thresholds.append((bound, f"after warm-up + {v.growth_tolerance / rss_unit_scale:g} MB", "right"))
        else:
            series[v.resource] = [(float(i), x) for i, x in enumerate(v.values)]
    return line_chart(series, "Server resources after each flapping round (round 0: before)",
                      "round", "count", thresholds, y2_label="RSS (MB)", y2_series=right)


def growth_table(verdicts: Sequence[GrowthVerdict]) -> str:
    """Per resource: the values per round, warm-up step, slope and growth beside their bounds."""
    rows: list[list[object]] = []
    for v in verdicts:
        scale, unit = (MB, "MB") if v.resource == "rss_bytes" else (1.0, "")
        rows.append([
            v.resource,
            ", ".join(f"{x / scale:.4g}" for x in v.values),
            round(v.warmup_step / scale, 3),
            f"{v.slope / scale:.4g} (max {v.slope_tolerance / scale:.4g}) {unit}/round",
            f"{v.growth / scale:.4g} (max {v.growth_tolerance / scale:.4g}) {unit}",
            "LEAK" if v.leak else "stable",
        ])
    return html_table(["resource", "per round (0 = before)", "warm-up step", "slope after warm-up",
                       "growth after warm-up", "verdict"], rows, "Leak rule: slope and growth after warm-up")


def comparison_table(before: Snapshot, after: Snapshot) -> str:
    """Both snapshots side by side: each resource both hold, the change, its unit and source."""
    rows: list[list[object]] = []
    for name, change in after.deltas_since(before).items():
        scale, unit = scale_of(name)
        rows.append([name, before.values[name] / scale, after.values[name] / scale,
                     change / scale, unit, before.sources.get(name, "")])
    return html_table(["resource", before.label or "before", after.label or "after", "change",
                       "unit", "source"], rows, "Resource snapshots compared")


def growth_figures(verdicts: Sequence[GrowthVerdict], criterion: str = "") -> list[Figure]:
    """Per resource, its slope and its growth after warm-up beside their bounds."""
    figures = []
    for v in verdicts:
        scale, unit = scale_of(v.resource)
        note = f"warm-up step {v.warmup_step / scale:.3g} {unit} not judged"
        figures.append(Figure(f"{v.resource} slope after warm-up", v.slope / scale, f"{unit}/round",
                              v.slope_tolerance / scale, "<=", criterion, note=note))
        figures.append(Figure(f"{v.resource} growth after warm-up", v.growth / scale, unit,
                              v.growth_tolerance / scale, "<=", criterion,
                              note=f"over {len(v.judged) - 1} rounds"))
    return figures
