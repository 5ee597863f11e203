"""Evidence for flapping runs and server resources: tables, figures and charts, as HTML/SVG.

Renders what :mod:`wsresilience.core.flapping` and :mod:`wsresilience.core.probes` measured: the run
summary, the resources over time, snapshots side by side, and the leak rule's figures.
Nothing here judges; the keyword components hand the figures to ``judge``.
"""

from __future__ import annotations

from collections.abc import Sequence

from wsresilience.core.evidence.charts import line_chart
from wsresilience.core.evidence.svg import THRESHOLD
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
RSS_SERIES = "RSS (MiB)"


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
    """Connections, sessions and agents (left axis) and RSS in MiB (right axis) over time."""
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
    # RSS gets a 10 MiB tall axis at least: noise stays flat.
    return line_chart(series, title, "time since start (s)", "count",
                      thresholds, y2_label="RSS (MiB)", y2_series=[RSS_SERIES], y2_min_span=10.0)


def growth_chart(verdicts: Sequence[GrowthVerdict], rss_unit_scale: float = MB) -> str:
    """Each judged resource against connections served; RSS in MiB on the right, with the
    bound drawn in the threshold colour as the slope a leak at the bound would climb from the
    late half's start, named as RSS's bound so it does not read as a count's."""
    series: dict[str, list[tuple[float, float]]] = {}
    right: list[str] = []
    for v in verdicts:
        if v.resource == "rss_bytes":
            series[RSS_SERIES] = [(x, y / rss_unit_scale) for x, y in zip(v.served, v.values)]
            mid = v.middle
            name = f"RSS bound: +{v.bound / 1024:g} KiB per connection from round {mid}"
            series[name] = [(x, (v.values[mid] + v.bound * (x - v.served[mid])) / rss_unit_scale)
                            for x in v.served[mid:]]
            right += [RSS_SERIES, name]
        else:
            series[v.resource] = list(zip(v.served, v.values))
    return line_chart(series, "Server resources after each flapping round (0: before any load)",
                      "connections served", "count (descriptors, tasks)", y2_label="RSS (MiB)", y2_series=right,
                      colours={name: THRESHOLD for name in right if name != RSS_SERIES})


def _rate(value: float, v: GrowthVerdict) -> str:
    """A rate per connection as the table shows it: KiB for memory, the count's own unit."""
    return f"{value / 1024:.3g} KiB" if not v.exact else f"{value:.3g}"


def growth_table(verdicts: Sequence[GrowthVerdict]) -> str:
    """Per resource: values per round, warm-up step, the fitted rates, the judged figure and
    the model that judged it (and why)."""
    rows: list[list[object]] = []
    for v in verdicts:
        scale, unit = (MB, "MiB") if v.resource == "rss_bytes" else (1.0, "")
        if v.exact:
            judged = f"growth {v.growth:g} and {_rate(v.rate, v)} per connection (max 0)"
        else:
            judged = f"sustained {_rate(v.sustained_rate, v)} per connection (max {v.bound / 1024:g} KiB)"
        rows.append([
            v.resource,
            ", ".join(f"{x / scale:.4g}" for x in v.values) + f" {unit}".rstrip(),
            f"{v.served[-1]:g} in {len(v.values) - 1} rounds",
            round(v.warmup_step / scale, 3),
            f"{_rate(v.early_rate, v)} / {_rate(v.late_rate, v)} (from round {v.middle}) / {_rate(v.rate, v)}",
            judged,
            "LEAK" if v.leak else "stable",
            v.model,
        ])
    return html_table(["resource", "per round (0 = before)", "connections", "warm-up step (not judged)",
                       "per connection: early half / late half / all judged rounds", "judged", "verdict",
                       "model, and why"], rows, "Leak rule: what each connection leaves behind, after warm-up")


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
    """Per resource, the figures the leak rule judges: memory's sustained rate per connection;
    a count's growth and rate, both exactly 0 at most."""
    figures = []
    for v in verdicts:
        scale, unit = scale_of(v.resource)
        note = f"warm-up step {v.warmup_step / scale:.3g} {unit} not judged; {v.served[-1]:g} connections"
        if v.exact:
            figures.append(Figure(f"{v.resource} growth after warm-up", v.growth, unit, 0.0, "<=", criterion,
                                  note=note))
            figures.append(Figure(f"{v.resource} per connection after warm-up", v.rate, f"{unit}/connection",
                                  0.0, "<=", criterion, note="exact"))
        else:
            figures.append(Figure(
                f"{v.resource} kept per connection, sustained", v.sustained_rate / 1024, "KiB/connection",
                v.bound / 1024, "<=", criterion,
                note=(f"lower of {v.rate / 1024:.3g} (all judged rounds) and {v.late_rate / 1024:.3g} "
                      f"(late half, from round {v.middle}); {note}")))
    return figures
