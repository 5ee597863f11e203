"""The reconnect cycles chart: a time per cycle against its bound, and whether each cycle held.

Drawn for WS-RESILIENCE-001's repeated reconnects: one point per cycle (history retrieval
time), a filled dot where the restored context was identical to the client's record and a
red cross where it differed, the p95 of the times as a dotted line, and the bound. Loopback
retrievals take a millisecond against a one-second bound: the axis stays fitted to the times
and an arrow at the top edge points to the bound, labelled with its value.
"""

from __future__ import annotations

from collections.abc import Sequence

from wsresilience.core.evidence.charts.common import WIDTH
from wsresilience.core.evidence.svg import (
    INK, THRESHOLD, Scale, dash_swatch, document, edge_marker, horizontal_mark, legend,
    nice_ticks, no_data, num, padded, px, x_axis, y_axis,
)
from wsresilience.core.stats import percentile

Cycle = tuple[int, float, bool]
"""One cycle: ``(number, time_ms, context_identical)``."""

IDENTICAL = "#0072B2"
DIFFERENT = "#D55E00"


def cycles_chart(
    cycles: Sequence[Cycle],
    title: str,
    bound_ms: float | None = None,
    *,
    bound_label: str = "bound",
    y_label: str = "history retrieval (ms)",
    width: int = WIDTH,
    height: int = 300,
) -> str:
    """Time per reconnect cycle, identical contexts as dots and different ones as crosses."""
    points = [(int(n), float(ms), bool(same)) for n, ms, same in cycles]
    if not points:
        return no_data(title, width, "no data: no reconnect cycle completed")
    times = [p[1] for p in points]
    p95 = percentile(sorted(times), 95)
    d_lo, d_hi = min(times), max(times)
    near = bound_ms is not None and bound_ms <= d_hi + 2 * ((d_hi - d_lo) or d_hi or 1.0)
    lo, hi = padded(0.0, max([d_hi] + ([bound_ms] if near and bound_ms is not None else [])), 0.1)
    lo = 0.0
    different = sum(not p[2] for p in points)
    items = [(_dot(IDENTICAL), f"context identical ({len(points) - different})")]
    if different:
        items.append((_cross(), f"context DIFFERENT ({different})"))
    items.append((dash_swatch(INK, "2 2"), f"p95 {num(p95)} ms"))
    if bound_ms is not None:
        items.append((dash_swatch(THRESHOLD) if near else _arrow(), f"{bound_label} {num(bound_ms)} ms"
                      + ("" if near else " (off scale, arrow at the top)")))
    legend_svg, legend_bottom = legend(items, 14, 42, width - 14)
    top, bottom = legend_bottom + 22, max(legend_bottom + 182, height - 48)
    left, right = 66.0, width - 20.0
    n_lo, n_hi = min(p[0] for p in points), max(p[0] for p in points)
    x = Scale(n_lo - 0.5, n_hi + 0.5, left, right)
    y = Scale(lo, hi, bottom, top)
    ticks = [t for t in nice_ticks(n_lo, n_hi, 10) if float(t).is_integer()]
    parts = [legend_svg, x_axis(x, bottom, top, "reconnect cycle", ticks), y_axis(y, left, right, y_label,
                                                                                    nice_ticks(lo, hi, 6))]
    path = " ".join(f"{px(x(n))},{px(y(ms))}" for n, ms, _ in points)
    parts.append(f'<polyline points="{path}" fill="none" stroke="{IDENTICAL}" stroke-opacity="0.4" stroke-width="1"/>')
    for n, ms, same in points:
        marker = _dot(IDENTICAL) if same else _cross()
        state = "identical" if same else "DIFFERENT"
        parts.append(f'<g transform="translate({px(x(n))} {px(y(ms))})"><title>cycle {n}: {num(ms)} ms, '
                     f"context {state}</title>{marker}</g>")
    parts.append(horizontal_mark(y(p95), left, right, f"p95 {num(p95)} ms", INK, anchor="start")
                 .replace('class="threshold"', 'class="statistic"').replace('stroke-dasharray="6 3"',
                                                                           'stroke-dasharray="2 2"'))
    if bound_ms is not None:
        label = f"{bound_label} {num(bound_ms)} ms"
        parts.append(horizontal_mark(y(bound_ms), left, right, label) if near
                     else edge_marker(right - 8, top + 4, label, "up"))
    desc = f"{len(points)} cycles, {different} with a different context, p95 {num(p95)} ms"
    return document(width, int(bottom + 48), title, parts, desc)


def _dot(colour: str) -> str:
    return f'<circle r="3.5" fill="{colour}" stroke="#fff" stroke-width="0.8"/>'


def _cross() -> str:
    d = "M-4 -4 L4 4 M-4 4 L4 -4"
    return f'<path d="{d}" stroke="{DIFFERENT}" stroke-width="2.2"/>'


def _arrow() -> str:
    return f'<path d="M-5 3 L0 -4 L5 3Z" fill="{THRESHOLD}"/>'
