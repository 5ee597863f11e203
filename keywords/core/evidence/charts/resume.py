"""The stream resume chart: chunks received over time by seq, live, replayed or duplicate."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from wsresilience.core.evidence.charts.common import WIDTH, Mark, mark_colour
from wsresilience.core.evidence.svg import (
    MUTED, PALETTE, THRESHOLD, Scale, dash_swatch, document, edge_marker, esc, legend, nice_ticks,
    no_data, num, padded, px, stagger, text, vertical_mark, x_axis, y_axis,
)

#: Chunk kinds of a resumed stream and their colours.
CHUNK_COLOURS: dict[str, str] = {"live": "#0072B2", "replayed": "#E69F00", "duplicate": "#D55E00"}


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
    data_ts = [p[0] for p in points]
    reach = max(data_ts) + 0.15 * ((max(data_ts) - min(data_ts)) or 1.0)
    far = [(t, label) for t, label in marks if t > reach]  # a bound far past the data: at the edge
    marks = [(t, label) for t, label in marks if t <= reach]
    ts = data_ts + [t for t, _ in marks]
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
    items += [(f'<path d="M-5 -5 L2 0 L-5 5Z" fill="{THRESHOLD}"/>', "bound off scale (arrow at the edge)")] if far else []
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
    top = legend_bottom + 24 + (12 * max(0, *shown) if shown else 0)
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
            parts.append(vertical_mark(x(t), top, bottom, label, mark_colour(label), rows[i], right))
        else:
            parts.append(
                f'<g class="mark"><title>{esc(label)} at {num(t)} s</title><line x1="{px(x(t))}" '
                f'x2="{px(x(t))}" y1="{px(top)}" y2="{px(bottom)}" stroke="{mark_colour(label)}" '
                'stroke-width="1.5" stroke-dasharray="6 3"/></g>'
            )
    for i, (t, label) in enumerate(far):
        parts.append(edge_marker(right - 2, bottom - 14 - 16 * i, f"{label} (at {num(t)} s)"))
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
