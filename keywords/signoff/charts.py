"""Evidence charts read back out of ``output.xml``, for the sign-off page to show inline.

The library logs its charts (:mod:`wsresilience.core.evidence.charts`) as HTML messages
holding one ``<svg class="wsr-chart">`` each. The sign-off collector keeps, per test, every
such chart with the id of the keyword that logged it, so the page can show the chart under
its criterion and link to ``log.html#<keyword id>``, which Robot's log opens expanded.

Only the library's own charts are taken, and only when they hold no script, no event
handler attribute and no ``javascript:`` link: the page stays a page without scripts even
when a suite logs HTML of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CHART = re.compile(r"<svg\b[^>]*\bclass=[\"']wsr-chart[\"'][\s\S]*?</svg>", re.IGNORECASE)
UNSAFE = re.compile(r"<script|<foreignObject|\son[a-z]+\s*=|javascript:", re.IGNORECASE)
TITLE = re.compile(r"<title>([\s\S]*?)</title>")


@dataclass(frozen=True)
class Chart:
    """One logged chart: its markup, its title, and the keyword that logged it."""

    svg: str
    title: str
    keyword_id: str
    keyword_name: str


def charts_in_html(message: str, keyword_id: str, keyword_name: str) -> list[Chart]:
    """Every safe library chart in one HTML message."""
    if "wsr-chart" not in message:
        return []
    found = []
    for match in CHART.finditer(message):
        svg = match.group(0)
        if UNSAFE.search(svg):
            continue
        title = TITLE.search(svg)
        found.append(Chart(svg, title.group(1) if title else "chart", keyword_id, keyword_name))
    return found
