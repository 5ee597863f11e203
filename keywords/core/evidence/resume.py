"""An SVG resume timeline: chunks over time, the cuts, the reconnects and the replay.

x is milliseconds since the stream started, y the chunk seq. Each arrival is a dot (grey
before the first cut, green for chunks that came after a resume), cuts are red lines,
reconnects blue dashed lines, and an orange dashed line marks the total-recovery bound
after the first cut. Self-contained SVG, so it embeds in log.html as it is.
"""

from __future__ import annotations

import html

from keywords.core.streams.assembly import Arrival

W, H = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 30, 45


def resume_timeline_svg(
    title: str,
    start: float,
    arrivals: list[Arrival],
    cuts: list[float],
    reconnects: list[float],
    recovery_bound_s: float | None = None,
    max_points: int = 1500,
) -> str:
    """The timeline as an SVG string (times are monotonic seconds; ``start`` is t = 0)."""
    times = [a.t for a in arrivals] + cuts + reconnects
    if recovery_bound_s is not None and cuts:
        times.append(cuts[0] + recovery_bound_s)
    t_max = max([(t - start) * 1000 for t in times] + [1.0])
    seq_max = max([a.seq for a in arrivals] + [1])
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + plot_w * ((t - start) * 1000) / t_max

    def y(seq: float) -> float:
        return TOP + plot_h * (1 - seq / seq_max)

    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' "
        "font-family='sans-serif' font-size='11'>",
        f"<text x='{W / 2}' y='16' text-anchor='middle' font-weight='bold'>{html.escape(title)}</text>",
        f"<line x1='{LEFT}' y1='{TOP + plot_h}' x2='{LEFT + plot_w}' y2='{TOP + plot_h}' stroke='black'/>",
        f"<line x1='{LEFT}' y1='{TOP}' x2='{LEFT}' y2='{TOP + plot_h}' stroke='black'/>",
        f"<text x='{LEFT + plot_w / 2}' y='{H - 8}' text-anchor='middle'>time since stream start (ms)</text>",
        f"<text x='14' y='{TOP + plot_h / 2}' text-anchor='middle' "
        f"transform='rotate(-90 14 {TOP + plot_h / 2})'>chunk seq</text>",
    ]
    for i in range(5):
        tx = t_max * i / 4
        px = LEFT + plot_w * i / 4
        parts.append(f"<text x='{px:.1f}' y='{TOP + plot_h + 14}' text-anchor='middle'>{tx:.0f}</text>")
        sy = seq_max * i / 4
        parts.append(f"<text x='{LEFT - 4}' y='{y(sy) + 4:.1f}' text-anchor='end'>{sy:.0f}</text>")
    step = max(1, len(arrivals) // max_points)
    for a in arrivals[::step]:
        colour = "#1a7f37" if a.replay else "#888"
        parts.append(f"<circle cx='{x(a.t):.1f}' cy='{y(a.seq):.1f}' r='1.8' fill='{colour}'/>")
    for i, t in enumerate(cuts):
        parts.append(f"<line x1='{x(t):.1f}' y1='{TOP}' x2='{x(t):.1f}' y2='{TOP + plot_h}' "
                     "stroke='#cf222e' stroke-width='1.5'/>")
        if i == 0:
            parts.append(f"<text x='{x(t) + 3:.1f}' y='{TOP + 10}' fill='#cf222e'>cut</text>")
    for i, t in enumerate(reconnects):
        parts.append(f"<line x1='{x(t):.1f}' y1='{TOP}' x2='{x(t):.1f}' y2='{TOP + plot_h}' "
                     "stroke='#0969da' stroke-dasharray='4 3'/>")
        if i == 0:
            parts.append(f"<text x='{x(t) + 3:.1f}' y='{TOP + 22}' fill='#0969da'>reconnected</text>")
    if recovery_bound_s is not None and cuts:
        bx = x(cuts[0] + recovery_bound_s)
        parts.append(f"<line x1='{bx:.1f}' y1='{TOP}' x2='{bx:.1f}' y2='{TOP + plot_h}' "
                     "stroke='#bc4c00' stroke-dasharray='2 2'/>")
        parts.append(f"<text x='{bx - 3:.1f}' y='{TOP + 34}' fill='#bc4c00' text-anchor='end'>"
                     f"recovery bound {recovery_bound_s * 1000:.0f} ms</text>")
    legend_y = TOP + plot_h + 30
    parts.append(f"<circle cx='{LEFT}' cy='{legend_y - 4}' r='3' fill='#888'/>"
                 f"<text x='{LEFT + 6}' y='{legend_y}'>chunk before first cut</text>"
                 f"<circle cx='{LEFT + 150}' cy='{legend_y - 4}' r='3' fill='#1a7f37'/>"
                 f"<text x='{LEFT + 156}' y='{legend_y}'>chunk after a resume</text>")
    parts.append("</svg>")
    return "".join(parts)
