"""Inline SVG charts for log.html: connection timelines, lines over time, histograms, resumes.

Each chart is a pure function returning one ``<svg>`` string, safe to log as HTML::

    from robot.api import logger
    logger.info(histogram(rtts_ms, "Client RTT", "ms", thresholds=[(100, "p95 bound 100 ms")]),
                html=True)

No plotting library is involved: the markup is small, self-contained, prints, and reads the
same in every browser. Every chart has a ``<title>`` (the tooltip and accessible name), axes
labelled with units, a legend, and thresholds as dashed lines with their labels. All text is
escaped. Empty input gives a small chart that says "no data" rather than an exception, so a
keyword can always log its evidence, even after a failure.

Times are seconds. Marks are ``(t_s, label)`` pairs drawn as labelled dashed vertical lines;
thresholds are ``(value, label)`` pairs drawn as dashed lines across the plot.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from wsresilience.core.stats import percentile
from wsresilience.core.evidence.svg import (
    HALO,
    INK,
    MUTED,
    PALETTE,
    THRESHOLD,
    Scale,
    dash_swatch,
    document,
    esc,
    horizontal_mark,
    legend,
    nice_ticks,
    no_data,
    num,
    padded,
    px,
    stagger,
    swatch,
    text,
    vertical_mark,
    x_axis,
    y_axis,
)

Mark = tuple[float, str]
"""A vertical marker: ``(t_s, label)``, e.g. ``(1.25, "bound 1.25 s")``."""
Threshold = tuple[float, str]
"""A threshold line: ``(value, label)``, e.g. ``(100, "p95 < 100 ms")``."""
Segment = tuple[float, "float | None", str]
"""A state interval ``(start_s, end_s, state)``; ``end_s=None`` runs to the end of the chart."""
Event = tuple[float, str, str]
"""A point event ``(t_s, kind, label)``, e.g. ``(2.31, "close", "close 1011 keepalive timeout")``."""

WIDTH = 720

#: Connection states in lifecycle order, each with one colour in every chart.
STATE_COLOURS: dict[str, str] = {
    "CONNECTING": "#56B4E9",
    "OPEN": "#009E73",
    "SILENT": "#E69F00",
    "TERMINATED": "#D55E00",
    "CLOSED": "#C4C4C4",
}

#: Chunk kinds of a resumed stream and their colours.
CHUNK_COLOURS: dict[str, str] = {"live": "#0072B2", "replayed": "#E69F00", "duplicate": "#D55E00"}


@dataclass(frozen=True)
class Lane:
    """One connection in a timeline: its name, state segments and point events."""

    name: str
    segments: Sequence[Segment] = ()
    events: Sequence[Event] = ()

    @classmethod
    def coerce(cls, lane: "Lane | Mapping[str, object]") -> "Lane":
        """Accept a :class:`Lane` or a mapping with ``name``, ``segments`` and ``events``."""
        if isinstance(lane, Lane):
            return lane
        return cls(
            name=str(lane.get("name", "")),
            segments=tuple(tuple(s) for s in lane.get("segments", ()) or ()),  # type: ignore[union-attr]
            events=tuple(tuple(e) for e in lane.get("events", ()) or ()),  # type: ignore[union-attr]
        )


# ---------------------------------------------------------------------------------------------
# Timeline


def timeline_chart(
    lanes: Sequence[Lane | Mapping[str, object]],
    title: str,
    t0: float | None = None,
    marks: Iterable[Mark] = (),
    *,
    width: int = WIDTH,
    max_markers_per_lane: int = 60,
) -> str:
    """One horizontal lane per connection showing its states over time and its events.

    ``lanes`` holds :class:`Lane` objects (or mappings with the same keys). State segments are
    coloured by :data:`STATE_COLOURS` (unknown states get a palette colour and a legend entry);
    events are markers whose shape follows their kind: *ping* a tick, *pong* a dot, anything
    *suppressed/dropped/missed* a cross, *close/terminated* a diamond. ``t0`` is subtracted from
    every time (pass a monotonic start stamp to draw seconds since the start). ``marks`` are
    vertical lines across all lanes, e.g. a termination bound.

    Lanes shrink to stay legible: 50 lanes fit in about 600 px. Routine markers (pings, pongs)
    on a crowded lane are thinned to ``max_markers_per_lane``; state segments and notable
    events are never dropped, and a footnote says how many markers were left out.
    """
    shift = t0 or 0.0
    rows = [Lane.coerce(lane) for lane in lanes]
    marks = [(t - shift, label) for t, label in marks]
    times = [t for lane in rows for s in lane.segments for t in (s[0], s[1]) if t is not None]
    times += [e[0] for lane in rows for e in lane.events]
    if not rows or not times:
        return no_data(title, width, "no data: no connection recorded any state or event")
    times = [t - shift for t in times]
    lo, hi = min(times + [t for t, _ in marks]), max(times + [t for t, _ in marks])
    if lo >= 0 and lo <= 0.25 * (hi - lo):
        lo = 0.0
    lo, hi = (lo, hi + (hi - lo) * 0.03) if hi > lo else padded(lo, hi)

    n = len(rows)
    lane_h = min(24.0, max(10.0, 360 / n)) if n <= 60 else max(3.0, 600 / n)
    label_every = 1 if lane_h >= 9 else math.ceil(9 / lane_h)
    label_size = min(11.0, lane_h - 1) if label_every == 1 else 9.0
    longest = max(len(lane.name) for lane in rows)
    left = min(170.0, max(70.0, 14 + longest * label_size * 0.62))
    right = width - 16

    states = _ordered_states(rows)
    kinds = sorted({e[1] for lane in rows for e in lane.events}, key=_event_rank)
    items = [(swatch(_state_colour(s, states)), s) for s in states]
    items += [(_event_marker(k, 4.5), k) for k in kinds]
    legend_svg, legend_bottom = legend(items, 14, 42, width - 14)

    x = Scale(lo, hi, left, right)
    mark_rows = stagger([x(t) for t, _ in marks], [label for _, label in marks], max_x=right)
    top = legend_bottom + 22 + (12 * max(mark_rows) if mark_rows else 0) + (4 if marks else 0)
    plot_bottom = top + n * lane_h

    parts = [legend_svg]
    bar_h = max(2.0, lane_h * 0.7)
    marker_r = max(1.5, min(4.5, bar_h / 2 + 0.5))
    thinned_lanes, shown_total, event_total = 0, 0, 0
    for i, lane in enumerate(rows):
        y_mid = top + (i + 0.5) * lane_h
        if i % 2 == 1:
            parts.append(
                f'<rect x="{px(left)}" y="{px(top + i * lane_h)}" width="{px(right - left)}" '
                f'height="{px(lane_h)}" fill="#f6f8fa"/>'
            )
        if i % label_every == 0:
            parts.append(
                text(left - 6, y_mid + label_size * 0.35, lane.name, text_anchor="end", fill=INK,
                     font_size=num(label_size))
            )
        for start, end, state in lane.segments:
            s = start - shift
            e = (end - shift) if end is not None else hi
            parts.append(
                f'<rect x="{px(x(s))}" y="{px(y_mid - bar_h / 2)}" width="{px(max(0.8, x(e) - x(s)))}" '
                f'height="{px(bar_h)}" fill="{_state_colour(state, states)}">'
                f"<title>{esc(lane.name)}: {esc(state)} {num(s)}–{num(e)} s</title></rect>"
            )
        events = sorted(lane.events, key=lambda ev: ev[0])
        shown = _thin(events, max_markers_per_lane)
        event_total += len(events)
        shown_total += len(shown)
        thinned_lanes += len(shown) < len(events)
        for t, kind, label in shown:
            cx = x(t - shift)
            tip = f"{lane.name}: {label or kind} at {num(t - shift)} s"
            parts.append(
                f'<g transform="translate({px(cx)} {px(y_mid)})"><title>{esc(tip)}</title>'
                f"{_event_marker(kind, marker_r)}</g>"
            )
            if lane_h >= 16 and label and any(w in kind.lower() for w in ("close", "terminat")):
                parts.append(text(cx + 7, y_mid + 4, label, fill=INK, font_size=10, **HALO))

    parts.append(x_axis(x, plot_bottom, top, "time (s)", nice_ticks(lo, hi, 8)))
    for (t, label), row in zip(marks, mark_rows):
        parts.append(vertical_mark(x(t), top, plot_bottom, label, _mark_colour(label), row, right))
    height = plot_bottom + 44
    if thinned_lanes:
        note = (
            f"Markers thinned on {thinned_lanes} crowded lane(s): {shown_total} of {event_total} "
            "events shown; every state change and every close/suppressed event is drawn."
        )
        parts.append(text(14, height, note, fill=MUTED, font_size=10, font_style="italic"))
        height += 10
    desc = f"{n} connection(s), states {', '.join(states)}, {event_total} event(s)"
    return document(width, int(height), title, parts, desc)


def _ordered_states(rows: Sequence[Lane]) -> list[str]:
    seen = {s[2] for lane in rows for s in lane.segments}
    known = [s for s in STATE_COLOURS if s in seen]
    return known + sorted(seen - set(STATE_COLOURS))


def _state_colour(state: str, states: Sequence[str]) -> str:
    if state in STATE_COLOURS:
        return STATE_COLOURS[state]
    extra = [s for s in states if s not in STATE_COLOURS]
    return PALETTE[(extra.index(state) if state in extra else 0) % len(PALETTE)]


def _event_rank(kind: str) -> int:
    """0 for notable events (close, suppressed...), 1 for unknown kinds, 2 for routine ping/pong."""
    k = kind.lower()
    if any(w in k for w in ("close", "terminat", "suppress", "drop", "miss", "timeout", "lost")):
        return 0
    return 2 if ("ping" in k or "pong" in k) else 1


def _event_marker(kind: str, r: float) -> str:
    """The marker for an event kind, centred on the origin, with a white halo for contrast."""
    k = kind.lower()
    halo = 'stroke="#fff" stroke-width="1"'
    if "close" in k or "terminat" in k:
        return f'<path d="M0 {px(-r - 1)} L{px(r + 1)} 0 L0 {px(r + 1)} L{px(-r - 1)} 0Z" fill="#000" {halo}/>'
    if any(w in k for w in ("suppress", "drop", "miss", "timeout", "lost")):
        d = f"M{px(-r)} {px(-r)} L{px(r)} {px(r)} M{px(-r)} {px(r)} L{px(r)} {px(-r)}"
        return (
            f'<path d="{d}" stroke="#fff" stroke-width="3.5"/>'
            f'<path d="{d}" stroke="#8b0000" stroke-width="1.8"/>'
        )
    if "ping" in k:
        return (
            f'<line x1="0" x2="0" y1="{px(-r - 1)}" y2="{px(r + 1)}" stroke="#fff" stroke-width="3"/>'
            f'<line x1="0" x2="0" y1="{px(-r - 1)}" y2="{px(r + 1)}" stroke="#1b2a6b" stroke-width="1.5"/>'
        )
    if "pong" in k:
        return f'<circle r="{px(r * 0.75)}" fill="#fff" stroke="#1b2a6b" stroke-width="1.3"/>'
    colour = PALETTE[sum(map(ord, kind)) % len(PALETTE)]
    return f'<circle r="{px(r * 0.8)}" fill="{colour}" {halo}/>'


def _thin(events: Sequence[Event], limit: int) -> list[Event]:
    """Keep every notable event; sample routine ones evenly so the lane has at most ``limit``."""
    if len(events) <= limit:
        return list(events)
    notable = [e for e in events if _event_rank(e[1]) < 2]
    routine = [e for e in events if _event_rank(e[1]) == 2]
    room = max(0, limit - len(notable))
    step = len(routine) / room if room else math.inf
    kept = [routine[int(i * step)] for i in range(room)] if room else []
    return sorted(notable + kept, key=lambda e: e[0])


def _mark_colour(label: str) -> str:
    k = label.lower()
    if any(w in k for w in ("bound", "limit", "deadline", "threshold", "cut")):
        return THRESHOLD
    if "reconnect" in k or "silent" in k:
        return "#0072B2"
    if "resum" in k or "first" in k:
        return "#009E73"
    return MUTED


# ---------------------------------------------------------------------------------------------
# Lines over time


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

    def domain(names: set[str], lines: list[tuple], min_span: float = 0.0) -> tuple[float, float]:
        ys = [p[1] for n in names for p in named[n]] + [float(t[0]) for t in lines]
        lo, hi = (min(ys), max(ys)) if ys else (0.0, 1.0)
        if hi - lo < min_span:
            hi = lo + min_span
        if lo >= 0 and lo <= 0.5 * hi:
            lo = 0.0
        return padded(lo, hi, 0.08) if lo != 0.0 else (0.0, hi * 1.1 if hi > 0 else 1.0)

    left_names = set(named) - right_names
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(named)}
    items = [
        (dash_swatch(colours[n], "5 2" if n in right_names else "none"), f"{n} (right axis)" if n in right_names else n)
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
    for side, names, lines, label, at in axes:
        lo, hi = domain(names, lines, y2_min_span if side == "right" else 0.0)
        y = Scale(lo, hi, bottom, top)
        parts.append(y_axis(y, at, right, label, nice_ticks(lo, hi, 6), side))
        for t in lines:
            anchor = "end" if side == "right" else "start"
            parts.append(horizontal_mark(y(float(t[0])), left, right, str(t[1]), anchor=anchor))
        for name in sorted(names, key=list(named).index):
            pts = named[name]
            path = " ".join(f"{px(x(a))},{px(y(b))}" for a, b in pts)
            dash = ' stroke-dasharray="5 2"' if side == "right" else ""
            parts.append(
                f'<g class="series"><title>{esc(name)}</title><polyline points="{path}" fill="none" '
                f'stroke="{colours[name]}" stroke-width="2"{dash} stroke-linejoin="round"/>'
            )
            if len(pts) <= 60:
                parts.extend(
                    f'<circle cx="{px(x(a))}" cy="{px(y(b))}" r="2.5" fill="{colours[name]}">'
                    f"<title>{esc(name)}: {num(b)} at {num(a)}</title></circle>"
                    for a, b in pts
                )
            parts.append("</g>")
    desc = f"{len(named)} series: {', '.join(named)}"
    return document(width, height, title, parts, desc)


# ---------------------------------------------------------------------------------------------
# Histogram


def histogram(
    values: Sequence[float],
    title: str,
    unit: str,
    bins: int = 20,
    thresholds: Iterable[Threshold] = (),
    *,
    width: int = WIDTH,
    height: int = 300,
) -> str:
    """A latency histogram with p50, p95 and p99 marked and thresholds as dashed red lines.

    A summary line gives n, min, p50, p95, p99 and max in ``unit``. Bins span the data; a
    threshold far outside it (a 100 ms bound over sub-millisecond loopback RTTs) is not allowed
    to squash the bars into one column: it is drawn at the edge as "off scale" with its value.
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
    items += [(dash_swatch(THRESHOLD), "threshold")] if limits else []
    off_note = "; ".join(f"{label} at {num(v)} {unit}" for v, label in off_scale)
    legend_y = 72 if off_scale else 58
    legend_svg, legend_bottom = legend(items, 14, legend_y, width - 14)
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
    parts.append(x_axis(x, bottom, top, f"value ({unit})", nice_ticks(lo, hi, 8)))
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
    if off_scale:
        parts.append(
            f'<g class="threshold off-scale"><title>{esc(off_note)}</title>'
            + text(12, 54, f"Threshold off scale: {off_note}", fill=THRESHOLD, font_size=11, font_weight="bold")
            + "</g>"
        )
    return document(width, height, title, parts, summary)


# ---------------------------------------------------------------------------------------------
# Stream resume


def resume_chart(
    chunks: Sequence[tuple[float, int, str]],
    title: str,
    marks: Iterable[Mark] = (),
    *,
    width: int = WIDTH,
    height: int = 340,
    max_points: int = 3000,
) -> str:
    """Chunks received over time, ``(t_s, seq, kind)``, as a scatter of sequence numbers.

    ``kind`` is ``live`` (first delivery), ``replayed`` (delivered after a resume, on the new
    connection) or ``duplicate`` (a seq the client already had, which the assembler must
    drop). A clean resume reads as a staircase: live dots climb, stop at the cut, and continue
    from seq + 1 after the reconnect. ``marks`` label the cuts, the reconnects, the first
    resumed chunks and the recovery bound; a label repeated by later marks is written once
    (at its first mark) and the other lines carry it as their tooltip, so a stream cut ten
    times stays legible. Above ``max_points`` live chunks are sampled evenly; replayed and
    duplicate ones are all drawn.
    """
    points = [(float(t), int(s), str(k)) for t, s, k in chunks]
    if not points:
        return no_data(title, width, "no data: no chunks received")
    marks = [(float(t), str(label)) for t, label in marks]
    ts = [p[0] for p in points] + [t for t, _ in marks]
    seqs = [p[1] for p in points]
    x_lo, x_hi = padded(min(ts), max(ts), 0.03)
    if min(ts) >= 0 and x_lo < 0:
        x_lo = 0.0
    y_lo, y_hi = padded(min(seqs), max(seqs), 0.05)
    y_lo = max(y_lo, 0.0) if min(seqs) >= 0 else y_lo

    kinds = [k for k in CHUNK_COLOURS if any(p[2] == k for p in points)]
    kinds += sorted({p[2] for p in points} - set(CHUNK_COLOURS))
    counts = {k: sum(p[2] == k for p in points) for k in kinds}
    items = [(_chunk_marker(k, 4), f"{k} ({counts[k]})") for k in kinds]
    items += [(dash_swatch(MUTED), "cut / reconnect / resume")] if marks else []
    legend_svg, legend_bottom = legend(items, 14, 42, width - 14)
    left, right = 70.0, width - 20.0
    x = Scale(x_lo, x_hi, left, right)
    first: dict[str, int] = {}
    for i, (_, label) in enumerate(marks):
        first.setdefault(label, i)
    labelled = sorted(first.values())
    shown = stagger([x(marks[i][0]) for i in labelled], [marks[i][1] for i in labelled], rows=4,
                    max_x=right)
    rows = dict(zip(labelled, shown))
    top = legend_bottom + 24 + (12 * max(shown) if shown else 0)
    bottom = max(top + 160, height - 48)
    height = int(bottom + 48)
    y = Scale(y_lo, y_hi, bottom, top)

    live = [p for p in points if p[2] == "live"]
    others = [p for p in points if p[2] != "live"]
    if len(live) > max_points:
        step = len(live) / max_points
        live = [live[int(i * step)] for i in range(max_points)]
    r = 3.0 if len(points) <= 400 else 2.0
    parts = [legend_svg, x_axis(x, bottom, top, "time (s)", nice_ticks(x_lo, x_hi, 8))]
    parts.append(y_axis(y, left, right, "chunk seq", nice_ticks(y_lo, y_hi, 6)))
    for t, seq, kind in live + others:
        parts.append(
            f'<g transform="translate({px(x(t))} {px(y(seq))})"><title>seq {seq} {esc(kind)} at '
            f"{num(t)} s</title>{_chunk_marker(kind, r)}</g>"
        )
    for i, (t, label) in enumerate(marks):
        if i in rows:
            parts.append(vertical_mark(x(t), top, bottom, label, _mark_colour(label), rows[i], right))
        else:
            parts.append(
                f'<g class="mark"><title>{esc(label)} at {num(t)} s</title><line x1="{px(x(t))}" '
                f'x2="{px(x(t))}" y1="{px(top)}" y2="{px(bottom)}" stroke="{_mark_colour(label)}" '
                'stroke-width="1.5" stroke-dasharray="6 3"/></g>'
            )
    if len(live) < counts.get("live", 0):
        note = f"{len(live)} of {counts['live']} live chunks drawn (sampled); all replayed/duplicate drawn."
        parts.append(text(14, height - 4, note, fill=MUTED, font_size=10, font_style="italic"))
    desc = ", ".join(f"{counts[k]} {k}" for k in kinds)
    return document(width, height, title, parts, desc)


def _chunk_marker(kind: str, r: float) -> str:
    if kind == "duplicate":
        d = f"M{px(-r)} {px(-r)} L{px(r)} {px(r)} M{px(-r)} {px(r)} L{px(r)} {px(-r)}"
        return f'<path d="{d}" stroke="{CHUNK_COLOURS[kind]}" stroke-width="2"/>'
    if kind == "replayed":
        return (
            f'<rect x="{px(-r)}" y="{px(-r)}" width="{px(2 * r)}" height="{px(2 * r)}" '
            f'fill="{CHUNK_COLOURS[kind]}" stroke="#fff" stroke-width="0.5"/>'
        )
    colour = CHUNK_COLOURS.get(kind, PALETTE[sum(map(ord, kind)) % len(PALETTE)])
    return f'<circle r="{px(r)}" fill="{colour}" stroke="#fff" stroke-width="0.5"/>'
