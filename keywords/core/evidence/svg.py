"""SVG building blocks for the evidence charts: escaping, scales, ticks, axes, legends.

Everything here returns markup as ``str``. The charts in :mod:`wsresilience.core.evidence.charts` compose
these pieces into one ``<svg>`` element that is well-formed XML *and* valid inline HTML, so it
can be logged with ``logger.info(svg, html=True)`` and also parsed by ``xml.etree``.

Text always goes through :func:`esc`; numbers through :func:`num` (short, locale-free).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FONT = "DejaVu Sans, Segoe UI, Helvetica, Arial, sans-serif"
INK = "#24292f"
MUTED = "#57606a"
GRID = "#d8dee4"
THRESHOLD = "#cf222e"
#: Okabe-Ito palette: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def esc(text: object) -> str:
    """Escape text for use in SVG element content and attribute values."""
    return html.escape(str(text), quote=True)


def num(value: float) -> str:
    """A coordinate or tick label: at most 4 significant digits, no trailing zeros."""
    if value == 0 or not math.isfinite(value):
        return "0"
    text = f"{value:.4g}" if abs(value) < 1e5 else f"{value:.0f}"
    return text if "e" in text or "." not in text else text.rstrip("0").rstrip(".")


def px(value: float) -> str:
    """A pixel coordinate with one decimal (keeps the markup small)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Scale:
    """A linear map from a data domain ``[lo, hi]`` onto a pixel range ``[start, end]``."""

    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.hi - self.lo or 1.0
        return self.start + (value - self.lo) / span * (self.end - self.start)


def padded(lo: float, hi: float, pad: float = 0.05) -> tuple[float, float]:
    """Widen ``[lo, hi]`` by a fraction of its span; a zero span becomes a small window."""
    if hi < lo:
        lo, hi = hi, lo
    span = hi - lo
    if span == 0:
        span = abs(lo) * 0.2 or 1.0
        return lo - span / 2, hi + span / 2
    return lo - span * pad, hi + span * pad


def nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 x 10^k) covering ``[lo, hi]``, about ``count``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    value = first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def document(width: int, height: int, title: str, body: Iterable[str], desc: str = "") -> str:
    """Wrap chart parts in an ``<svg>`` with a ``<title>`` (the browser's tooltip, a11y name)."""
    description = f"<desc>{esc(desc)}</desc>" if desc else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="wsr-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="{esc(FONT)}" font-size="11" '
        f'style="background:#fff;max-width:100%;height:auto;display:block;margin:4px 0">'
        f"<title>{esc(title)}</title>{description}"
        f'<rect width="{width}" height="{height}" fill="#fff" stroke="{GRID}"/>'
        f'<text x="12" y="20" font-size="14" font-weight="bold" fill="{INK}">{esc(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def no_data(title: str, width: int = 720, reason: str = "no data") -> str:
    """A small chart that says there is nothing to draw, instead of raising."""
    return document(
        width,
        80,
        title,
        [
            f'<text x="{width / 2}" y="52" text-anchor="middle" font-size="13" '
            f'fill="{MUTED}" font-style="italic">{esc(reason)}</text>'
        ],
        desc=reason,
    )


HALO = {"stroke": "#fff", "stroke_width": 3, "paint_order": "stroke", "stroke_linejoin": "round"}
"""Text attributes that draw a white outline under the glyphs: labels stay legible over bars."""


def text(x: float, y: float, content: str, **attrs: object) -> str:
    """A ``<text>`` element; keyword arguments become attributes (``_`` reads as ``-``)."""
    extra = "".join(f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attrs.items())
    return f'<text x="{px(x)}" y="{px(y)}"{extra}>{esc(content)}</text>'


def x_axis(scale: Scale, y: float, top: float, label: str, ticks: Sequence[float]) -> str:
    """Bottom axis: grid lines up to ``top``, tick labels, and the axis label with its unit."""
    parts = [f'<line x1="{px(scale.start)}" x2="{px(scale.end)}" y1="{px(y)}" y2="{px(y)}" stroke="{INK}"/>']
    for tick in ticks:
        x = scale(tick)
        parts.append(f'<line x1="{px(x)}" x2="{px(x)}" y1="{px(top)}" y2="{px(y)}" stroke="{GRID}"/>')
        parts.append(f'<line x1="{px(x)}" x2="{px(x)}" y1="{px(y)}" y2="{px(y + 4)}" stroke="{INK}"/>')
        parts.append(text(x, y + 15, num(tick), text_anchor="middle", fill=MUTED))
    parts.append(
        text((scale.start + scale.end) / 2, y + 32, label, text_anchor="middle", fill=INK, font_size=12)
    )
    return "".join(parts)


def y_axis(
    scale: Scale, x: float, right: float, label: str, ticks: Sequence[float], side: str = "left"
) -> str:
    """A vertical axis at ``x``; ``side='left'`` also draws grid lines across to ``right``."""
    sign = -1 if side == "left" else 1
    anchor = "end" if side == "left" else "start"
    parts = [f'<line x1="{px(x)}" x2="{px(x)}" y1="{px(scale.start)}" y2="{px(scale.end)}" stroke="{INK}"/>']
    for tick in ticks:
        y = scale(tick)
        if side == "left":
            parts.append(f'<line x1="{px(x)}" x2="{px(right)}" y1="{px(y)}" y2="{px(y)}" stroke="{GRID}"/>')
        parts.append(f'<line x1="{px(x)}" x2="{px(x + 4 * sign)}" y1="{px(y)}" y2="{px(y)}" stroke="{INK}"/>')
        parts.append(text(x + 7 * sign, y + 4, num(tick), text_anchor=anchor, fill=MUTED))
    mid = (scale.start + scale.end) / 2
    lx = x - 44 if side == "left" else x + 46
    rotate = -90 if side == "left" else 90
    parts.append(
        f'<text x="{px(lx)}" y="{px(mid)}" text-anchor="middle" fill="{INK}" font-size="12" '
        f'transform="rotate({rotate} {px(lx)} {px(mid)})">{esc(label)}</text>'
    )
    return "".join(parts)


def legend(items: Sequence[tuple[str, str]], x: float, y: float, max_x: float) -> tuple[str, float]:
    """Legend entries ``(marker_svg_at_origin, label)`` laid out in rows; returns (svg, bottom y).

    Each marker is drawn translated to its slot, so callers pass markers centred on (0, 0).
    """
    parts, cx, cy = [], x, y
    for marker, label in items:
        width = 22 + label_width(label)
        if cx + width > max_x and cx > x:
            cx, cy = x, cy + 16
        kind = "threshold" if marker_is_threshold(marker) else "entry"
        parts.append(
            f'<g class="legend-item" data-kind="{kind}" data-label="{esc(label)}">'
            f'<g transform="translate({px(cx + 6)} {px(cy - 4)})">{marker}</g>'
            + text(cx + 16, cy, label, fill=INK) + "</g>"
        )
        cx += width + 10
    return "".join(parts), cy


def marker_is_threshold(marker: str) -> bool:
    """Whether a legend marker stands for a threshold (drawn in the threshold colour)."""
    return THRESHOLD in marker


def edge_marker(x: float, y: float, label: str, direction: str = "right") -> str:
    """A threshold far off the data, drawn where it lies: an arrow at the plot's edge, labelled.

    The axis stays fitted to the data; the arrow points the way the bound lies (``right``,
    ``left``, ``up``) and its label, inside the plot, says its value. Class ``threshold off-scale``.
    """
    if direction == "up":
        arrow = f"M{px(x - 5)} {px(y + 7)} L{px(x)} {px(y)} L{px(x + 5)} {px(y + 7)}Z"
        label_svg = text(x - 8, y + 8, label, text_anchor="end", fill=THRESHOLD, font_size=10,
                         font_weight="bold", **HALO)
    elif direction == "left":
        arrow = f"M{px(x + 7)} {px(y - 5)} L{px(x)} {px(y)} L{px(x + 7)} {px(y + 5)}Z"
        label_svg = text(x + 10, y + 4, label, fill=THRESHOLD, font_size=10, font_weight="bold", **HALO)
    else:
        arrow = f"M{px(x - 7)} {px(y - 5)} L{px(x)} {px(y)} L{px(x - 7)} {px(y + 5)}Z"
        label_svg = text(x - 10, y + 4, label, text_anchor="end", fill=THRESHOLD, font_size=10,
                         font_weight="bold", **HALO)
    return (f'<g class="threshold off-scale"><title>{esc(label)}</title>'
            f'<path d="{arrow}" fill="{THRESHOLD}"/>{label_svg}</g>')


def swatch(colour: str) -> str:
    """A filled square legend marker centred on the origin."""
    return f'<rect x="-5" y="-5" width="10" height="10" fill="{esc(colour)}"/>'


def dash_swatch(colour: str, dash: str = "6 3") -> str:
    """A short dashed line legend marker centred on the origin."""
    return f'<line x1="-7" x2="7" y1="0" y2="0" stroke="{esc(colour)}" stroke-width="2" stroke-dasharray="{dash}"/>'


def vertical_mark(
    x: float,
    top: float,
    bottom: float,
    label: str,
    colour: str,
    row: int = 0,
    max_x: float = 1e9,
    dash: str = "6 3",
) -> str:
    """A dashed vertical line with its label above the plot; ``row`` staggers nearby labels.

    A label that would run past ``max_x`` is drawn to the left of the line instead.
    """
    y = top - 4 - 12 * max(row, 0)
    flip = x + 3 + label_width(label, 10) > max_x
    kind = "mark threshold" if colour == THRESHOLD else "mark"
    caption = "" if row < 0 else text(
        x - 3 if flip else x + 3, y, label, fill=colour, font_size=10, font_weight="bold",
        text_anchor="end" if flip else "start", **HALO,
    )
    return (
        f'<g class="{kind}"><title>{esc(label)}</title>'
        f'<line x1="{px(x)}" x2="{px(x)}" y1="{px(y + 2)}" y2="{px(bottom)}" stroke="{esc(colour)}" '
        f'stroke-width="1.5" stroke-dasharray="{dash}"/>' + caption + "</g>"
    )


def label_width(label: str, size: float = 11) -> float:
    """Approximate rendered width of ``label`` in pixels (DejaVu Sans: ~0.6 em, capitals ~0.72 em)."""
    capitals = sum(c.isupper() for c in label)
    return (len(label) * 0.6 + capitals * 0.12) * size


def horizontal_mark(
    y: float, left: float, right: float, label: str, colour: str = THRESHOLD, anchor: str = "end"
) -> str:
    """A dashed horizontal threshold line with its label above it, at the right end by default.

    ``anchor='start'`` puts the label at the left end: thresholds of a right axis use the right
    end and those of the left axis the left one, so two lines at the same height stay readable.
    """
    at = right - 4 if anchor == "end" else left + 4
    return (
        f'<g class="threshold"><title>{esc(label)}</title>'
        f'<line x1="{px(left)}" x2="{px(right)}" y1="{px(y)}" y2="{px(y)}" stroke="{esc(colour)}" '
        f'stroke-width="1.5" stroke-dasharray="6 3"/>'
        + text(at, y - 4, label, text_anchor=anchor, fill=colour, font_size=10, font_weight="bold", **HALO)
        + "</g>"
    )


def stagger(
    xs: Sequence[float], labels: Sequence[str], rows: int = 3, max_x: float = 1e9
) -> list[int]:
    """Label rows for vertical marks at ``xs`` so that nearby labels don't overlap.

    Mirrors :func:`vertical_mark`: a label runs right of its line unless that would pass
    ``max_x``, then left. Each label takes the first row where its span is free; a label with
    no free row gets ``-1``: :func:`vertical_mark` then draws the line with the label as its
    tooltip only, so no text is ever drawn over other text.
    """
    taken: list[list[tuple[float, float]]] = [[] for _ in range(rows)]
    result = [0] * len(xs)
    for index in sorted(range(len(xs)), key=lambda i: xs[i]):
        x, w = xs[index], label_width(labels[index], 10) + 6
        span = (x - w, x) if x + w > max_x else (x, x + w)
        free = [r for r in range(rows) if all(span[1] < a or span[0] > b for a, b in taken[r])]
        if not free:
            result[index] = -1  # no room: the line keeps the label as its tooltip
            continue
        taken[free[0]].append(span)
        result[index] = free[0]
    return result
