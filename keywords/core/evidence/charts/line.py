"""Lines over time: named series of points, on one axis or two (different units)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from wsresilience.core.evidence.charts.common import WIDTH, Threshold
from wsresilience.core.evidence.svg import (
    PALETTE, THRESHOLD, Scale, dash_swatch, document, edge_marker, esc, horizontal_mark, legend,
    nice_ticks, no_data, num, padded, px, x_axis, y_axis,
)


#: Each series' dash pattern, in order: coinciding lines stay distinguishable.
DASHES = ("none", "8 3", "2 3", "12 3 3 3", "5 5", "1 2")
#: Line widths from the last series drawn (thinnest, on top) to the first (widest, beneath).
WIDTHS = (2.0, 3.0, 4.0, 5.0)


def line_chart(
    series: Mapping[str, Sequence[tuple[float, float]]],
    title: str,
    x_label: str,
    y_label: str,
    thresholds: Iterable[Threshold] = (),
    *,
    y2_label: str | None = None,
    y2_series: Iterable[str] = (),
    y2_min_span: float = 0.0,
    colours: Mapping[str, str] | None = None,
    width: int = WIDTH,
    height: int = 320,
) -> str:
    """Named series of ``(x, y)`` points as lines, e.g. open connections and RSS during flapping.

    Quantities with different units go on two axes: name the series that belong on the right
    in ``y2_series`` and give ``y2_label`` (with its unit). Thresholds are ``(value, label)``
    on the left axis, or ``(value, label, "right")`` for the right one. An axis starts at zero
    unless that would squash the data into a thin band (a leak shows as a slope, so RSS in MB
    keeps its own range). ``y2_min_span`` keeps the right axis at least that tall, so noise
    well within a tolerance (say 0.1 MB of RSS against 10 MB allowed) does not look like a
    climb.

    Series that coincide stay visible: each has its own dash pattern, and the earlier ones are
    drawn wider underneath the later ones. Thresholds are drawn over the series; one far off
    the data (more than the data's span beyond it) does not stretch the axis: an arrow at the
    plot's top or bottom edge points to it, labelled with its value. ``colours`` sets a
    series' colour; a series in the threshold colour (a bound that changes along the x axis)
    is a threshold in the legend.
    """
    named = {name: sorted(points) for name, points in series.items() if points}
    if not named:
        return no_data(title, width, "no data: no samples in any series")
    right_names = set(y2_series) & set(named) if y2_label else set()
    if right_names == set(named):
        right_names = set()  # a right axis alone reads as a left one
    limits = [tuple(t) for t in thresholds]
    left_t = [t for t in limits if len(t) < 3 or t[2] != "right"]
    right_t = [t for t in limits if len(t) >= 3 and t[2] == "right"]

    xs = [p[0] for pts in named.values() for p in pts]
    x_lo, x_hi = min(xs), max(xs)
    if x_hi == x_lo:
        x_lo, x_hi = padded(x_lo, x_hi)

    def near(names: set[str], lines: list[tuple], min_span: float = 0.0) -> tuple[list[tuple], list[tuple]]:
        data = [p[1] for n in names for p in named[n]]
        if not data:
            return list(lines), []
        d_lo, d_hi = min(data), max(data)
        reach = max((d_hi - d_lo) or abs(d_hi) or 1.0, min_span)
        close = [t for t in lines if d_lo - reach <= float(t[0]) <= d_hi + reach]
        return close, [t for t in lines if t not in close]

    def domain(names: set[str], lines: list[tuple], min_span: float = 0.0) -> tuple[float, float]:
        ys = [p[1] for n in names for p in named[n]] + [float(t[0]) for t in lines]
        lo, hi = (min(ys), max(ys)) if ys else (0.0, 1.0)
        if hi - lo < min_span:
            hi = lo + min_span
        if lo >= 0 and lo <= 0.5 * hi:
            lo = 0.0
        return padded(lo, hi, 0.08) if lo != 0.0 else (0.0, hi * 1.1 if hi > 0 else 1.0)

    left_names = set(named) - right_names
    hue = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(named)}
    hue.update({n: c for n, c in (colours or {}).items() if n in named})
    dashes = {name: DASHES[i % len(DASHES)] for i, name in enumerate(named)}
    widths = {name: WIDTHS[min(len(named) - 1 - i, len(WIDTHS) - 1)] for i, name in enumerate(named)}
    items = [
        (dash_swatch(hue[n], dashes[n]), f"{n} (right axis)" if n in right_names else n)
        for n in named
    ]
    items += [(dash_swatch(THRESHOLD), "threshold")] if limits else []
    legend_svg, legend_bottom = legend(items, 14, 42, width - 14)
    top, bottom = legend_bottom + 22, height - 48
    if bottom - top < 120:
        bottom = top + 120
        height = int(bottom + 48)
    left, right = 66.0, width - (70.0 if right_names else 20.0)
    x = Scale(x_lo, x_hi, left, right)
    parts = [legend_svg, x_axis(x, bottom, top, x_label, nice_ticks(x_lo, x_hi, 8))]
    axes = [("left", left_names, left_t, y_label, left)]
    if right_names:
        axes.append(("right", right_names, right_t, y2_label or "", right))
    overlays: list[str] = []
    for side, names, lines, label, at in axes:
        lines, far = near(names, lines, y2_min_span if side == "right" else 0.0)
        lo, hi = domain(names, lines, y2_min_span if side == "right" else 0.0)
        y = Scale(lo, hi, bottom, top)
        parts.append(y_axis(y, at, right, label, nice_ticks(lo, hi, 6), side))
        for t in lines:
            anchor = "end" if side == "right" else "start"
            overlays.append(horizontal_mark(y(float(t[0])), left, right, str(t[1]), anchor=anchor))
        for i, t in enumerate(far):
            above = float(t[0]) > hi
            edge_y = (top + 12 + 16 * i) if above else (bottom - 12 - 16 * i)
            overlays.append(edge_marker(right - 8, edge_y, f"{t[1]} ({num(float(t[0]))})", "up" if above else "right"))
        for name in sorted(names, key=list(named).index):
            pts = named[name]
            path = " ".join(f"{px(x(a))},{px(y(b))}" for a, b in pts)
            dash = f' stroke-dasharray="{dashes[name]}"' if dashes[name] != "none" else ""
            css = "series threshold" if hue[name] == THRESHOLD else "series"
            parts.append(
                f'<g class="{css}"><title>{esc(name)}</title><polyline points="{path}" fill="none" '
                f'stroke="{hue[name]}" stroke-width="{widths[name]}"{dash} stroke-linejoin="round" '
                'stroke-opacity="0.85"/>'
            )
            if len(pts) <= 60:
                parts.extend(
                    f'<circle cx="{px(x(a))}" cy="{px(y(b))}" r="2.5" fill="{hue[name]}">'
                    f"<title>{esc(name)}: {num(b)} at {num(a)}</title></circle>"
                    for a, b in pts
                )
            parts.append("</g>")
    parts += overlays
    desc = f"{len(named)} series: {', '.join(named)}"
    return document(width, height, title, parts, desc)
