"""The latency histogram: bins, p50/p95/p99 marks, thresholds (drawn off scale when far out)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from wsresilience.core.evidence.charts.common import WIDTH, Threshold
from wsresilience.core.stats import percentile
from wsresilience.core.evidence.svg import (
    MUTED, THRESHOLD, Scale, dash_swatch, document, edge_marker, esc, legend, nice_ticks, no_data,
    num, padded, px, stagger, swatch, text, vertical_mark, x_axis, y_axis,
)


def histogram(
    values: Sequence[float],
    title: str,
    unit: str,
    bins: int = 20,
    thresholds: Iterable[Threshold] = (),
    *,
    x_label: str = "",
    width: int = WIDTH,
    height: int = 300,
) -> str:
    """A latency histogram with p50, p95 and p99 marked and thresholds as dashed red lines.

    A summary line gives n, min, p50, p95, p99 and max in ``unit``. Bins span the data; a
    threshold far outside it (a 100 ms bound over sub-millisecond loopback RTTs) is not allowed
    to squash the bars into one column: an arrow at the plot's edge points to it, labelled with
    its value. ``x_label`` names the axis (``round-trip time``); the unit is added to it.
    """
    data = sorted(float(v) for v in values if v is not None and math.isfinite(float(v)))
    if not data:
        return no_data(title, width, "no data: no measurements")
    bins = max(1, int(bins))
    d_lo, d_hi = data[0], data[-1]
    if d_hi == d_lo:
        d_lo, d_hi = padded(d_lo, d_hi)
    span = d_hi - d_lo
    limits = [(float(v), str(label)) for v, label in thresholds]
    on_scale = [t for t in limits if d_lo - span <= t[0] <= d_hi + 2 * span]
    off_scale = [t for t in limits if t not in on_scale]
    lo = min([d_lo] + [t[0] for t in on_scale])
    hi = max([d_hi] + [t[0] for t in on_scale])
    lo, hi = padded(lo, hi, 0.03)
    if d_lo >= 0 and lo < 0:
        lo = 0.0

    width_bin = span / bins
    counts = [0] * bins
    for v in data:
        counts[min(bins - 1, int((v - d_lo) / width_bin))] += 1
    p50, p95, p99 = (percentile(data, q) for q in (50, 95, 99))
    pcts = [(p50, f"p50 {num(p50)}", "#0072B2"), (p95, f"p95 {num(p95)}", "#CC79A7"), (p99, f"p99 {num(p99)}", "#000000")]

    summary = (
        f"n = {len(data)} · min {num(data[0])} · p50 {num(p50)} · p95 {num(p95)} · "
        f"p99 {num(p99)} · max {num(data[-1])} {unit}"
    )
    items = [(swatch("#8fb8de"), "count per bin")]
    items += [(dash_swatch(c, "2 2"), label.split()[0]) for _, label, c in pcts]
    items += [(dash_swatch(THRESHOLD), "threshold")] if on_scale else []
    items += [(_arrow_swatch(), "threshold off scale (arrow at the edge)")] if off_scale else []
    legend_svg, legend_bottom = legend(items, 14, 58, width - 14)
    left, right = 62.0, width - 20.0
    x = Scale(lo, hi, left, right)
    mark_x = [x(v) for v, _, _ in pcts] + [x(v) for v, _ in on_scale]
    mark_l = [label for _, label, _ in pcts] + [label for _, label in on_scale]
    rows = stagger(mark_x, mark_l, rows=4, max_x=right)
    top = legend_bottom + 22 + 12 * max(rows)
    bottom = max(top + 140, height - 48)
    height = int(bottom + 48)
    y_hi = max(counts) * 1.1
    y = Scale(0, y_hi, bottom, top)
    y_ticks = [t for t in nice_ticks(0, y_hi, 5) if float(t).is_integer()] or [0]

    parts = [text(12, 38, summary, fill=MUTED, font_size=11), legend_svg]
    parts.append(y_axis(y, left, right, "count", y_ticks))
    parts.append(x_axis(x, bottom, top, f"{x_label or 'value'} ({unit})", nice_ticks(lo, hi, 8)))
    for i, count in enumerate(counts):
        b_lo = d_lo + i * width_bin
        x0, x1 = x(b_lo), x(b_lo + width_bin)
        parts.append(
            f'<rect x="{px(x0 + 0.5)}" y="{px(y(count))}" width="{px(max(0.5, x1 - x0 - 1))}" '
            f'height="{px(bottom - y(count))}" fill="#8fb8de" stroke="#4a7eab" stroke-width="0.5">'
            f"<title>{num(b_lo)}–{num(b_lo + width_bin)} {esc(unit)}: {count}</title></rect>"
        )
    for (v, label, colour), row in zip(pcts, rows):
        parts.append(vertical_mark(x(v), top, bottom, label, colour, row, right, dash="2 2"))
    for (v, label), row in zip(on_scale, rows[len(pcts):]):
        parts.append(vertical_mark(x(v), top, bottom, label, THRESHOLD, row, right))
    for i, (v, label) in enumerate(sorted(off_scale)):
        side = "left" if v < lo else "right"
        at = left + 2 if side == "left" else right - 2
        parts.append(edge_marker(at, top + 14 + 16 * i, f"{label} ({num(v)} {unit})", side))
    return document(width, height, title, parts, summary)


def _arrow_swatch() -> str:
    return f'<path d="M-5 -5 L2 0 L-5 5Z" fill="{THRESHOLD}"/>'

