"""The connection timeline: one lane per connection, its states over time and its events."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from wsresilience.core.evidence.charts.common import WIDTH, Mark, mark_colour
from wsresilience.core.evidence.svg import (
    HALO, INK, MUTED, PALETTE, Scale, document, esc, legend, nice_ticks, no_data, num, padded,
    label_width, px, stagger, swatch, text, vertical_mark, x_axis,
)

Segment = tuple[float, "float | None", str]
"""A state interval ``(start_s, end_s, state)``; ``end_s=None`` runs to the end of the chart."""
Event = tuple[float, str, str]
"""A point event ``(t_s, kind, label)``, e.g. ``(2.31, "close", "close 1011 keepalive timeout")``."""

#: What each state means, as the legend says it.
STATE_NOTES: dict[str, str] = {
    "TERMINATED": "TERMINATED (server ended it)",
    "CLOSED": "CLOSED (socket closed)",
}
#: Said under a timeline where a connection ends TERMINATED: why it never turns CLOSED.
TERMINATED_NOTE = (
    "Ends TERMINATED: the server ended the connection; a frozen client reads nothing, so its",
    "socket stays open. A client that still reads (no-pong) sees the close and turns CLOSED.",
)

#: Connection states in lifecycle order, each with one colour in every chart.
STATE_COLOURS: dict[str, str] = {
    "CONNECTING": "#56B4E9",
    "OPEN": "#009E73",
    "SILENT": "#E69F00",
    "TERMINATED": "#D55E00",
    "CLOSED": "#C4C4C4",
}


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
    left = min(230.0, max(70.0, 14 + longest * label_size * 0.62))
    right = width - 16

    states = _ordered_states(rows)
    kinds = sorted({e[1] for lane in rows for e in lane.events}, key=_event_rank)
    items = [(swatch(_state_colour(s, states)), STATE_NOTES.get(s, s)) for s in states]
    items += [(_event_marker(k, 4.5), k) for k in kinds]
    legend_svg, legend_bottom = legend(items, 14, 42, width - 14)

    x = Scale(lo, hi, left, right)
    mark_rows = stagger([x(t) for t, _ in marks], [label for _, label in marks], max_x=right)
    top = legend_bottom + 22 + (12 * max(0, *mark_rows) if mark_rows else 0) + (4 if marks else 0)
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
                f"<g><title>{esc(lane.name)}</title>"
                + text(left - 6, y_mid + label_size * 0.35, _fit(lane.name, left - 12, label_size),
                       text_anchor="end", fill=INK, font_size=num(label_size))
                + "</g>"
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
                flip = cx + 7 + label_width(label, 10) > right
                parts.append(text(cx - 7 if flip else cx + 7, y_mid + 4, label, fill=INK, font_size=10,
                                  text_anchor="end" if flip else "start", **HALO))

    parts.append(x_axis(x, plot_bottom, top, "time (s)", nice_ticks(lo, hi, 8)))
    for (t, label), row in zip(marks, mark_rows):
        parts.append(vertical_mark(x(t), top, plot_bottom, label, mark_colour(label), row, right))
    height = plot_bottom + 44
    if any(lane.segments and lane.segments[-1][2] == "TERMINATED" for lane in rows):
        for line in TERMINATED_NOTE:
            parts.append(text(14, height, line, fill=MUTED, font_size=10, font_style="italic"))
            height += 13
    if thinned_lanes:
        note = (
            f"Markers thinned on {thinned_lanes} crowded lane(s): {shown_total} of {event_total} "
            "events shown; every state change and every close/suppressed event is drawn."
        )
        parts.append(text(14, height, note, fill=MUTED, font_size=10, font_style="italic"))
        height += 10
    desc = f"{n} connection(s), states {', '.join(states)}, {event_total} event(s)"
    return document(width, int(height), title, parts, desc)


def _fit(name: str, room: float, size: float) -> str:
    """``name``, cut short with an ellipsis to fit ``room`` pixels (the full name is the tooltip)."""
    if label_width(name, size) <= room:
        return name
    while name and label_width(name + "…", size) > room:
        name = name[:-1]
    return name + "…"


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
