"""Evidence for log.html: measured figures beside their thresholds, as HTML.

A :class:`Figure` is one measured value with the bound it is judged against. A figure table
is logged as HTML and also carries the figures as JSON in its ``data-figures`` attribute, so
the sign-off generator (``wsresilience.signoff``) can read them back out of ``output.xml``.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import asdict, dataclass
from typing import Literal

Comparison = Literal["<", "<=", ">", ">=", "==", "within"]


@dataclass(frozen=True)
class Figure:
    """One measured value judged against a threshold.

    ``comparison`` reads as "value <comparison> threshold". For ``within``, ``threshold`` is the
    expected value and ``tolerance`` the allowed absolute deviation.
    """

    name: str
    value: float
    unit: str
    threshold: float
    comparison: Comparison
    criterion: str = ""
    tolerance: float = 0.0
    note: str = ""

    @property
    def verdict(self) -> str:
        """``PASS`` or ``FAIL``."""
        return "PASS" if self.passed else "FAIL"

    @property
    def passed(self) -> bool:
        """Whether the value satisfies the threshold (NaN never does)."""
        v, t = self.value, self.threshold
        if isinstance(v, float) and math.isnan(v):
            return False
        return {
            "<": v < t,
            "<=": v <= t,
            ">": v > t,
            ">=": v >= t,
            "==": v == t,
            "within": abs(v - t) <= self.tolerance,
        }[self.comparison]

    @property
    def margin(self) -> float:
        """Distance to the threshold, positive when passing."""
        v, t = self.value, self.threshold
        if self.comparison in ("<", "<="):
            return t - v
        if self.comparison in (">", ">="):
            return v - t
        if self.comparison == "within":
            return self.tolerance - abs(v - t)
        return 0.0 if v == t else -abs(v - t)

    def describe(self) -> str:
        """One plain line: ``name = value unit (threshold: < 100 ms, margin 12 ms) PASS``."""
        bound = (
            f"{fmt(self.threshold)} ± {fmt(self.tolerance)} {self.unit}"
            if self.comparison == "within"
            else f"{self.comparison} {fmt(self.threshold)} {self.unit}"
        )
        return (
            f"{self.name} = {fmt(self.value)} {self.unit} (threshold {bound}, "
            f"margin {fmt(self.margin)} {self.unit}) {self.verdict}"
        )

    def to_json(self) -> dict[str, object]:
        """The figure as a JSON-ready dict, verdict and margin included."""
        data = asdict(self)
        data["verdict"] = self.verdict
        data["margin"] = self.margin
        return data


def fmt(value: float) -> str:
    """Format a number compactly for humans: ``12``, ``0.503``, ``1234.5``."""
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}" if abs(value) < 1000 else f"{value:.1f}"


def figure_table(figures: list[Figure], title: str = "Measured figures") -> str:
    """An HTML table of figures (value, threshold, margin, verdict) with the JSON attached."""
    payload = html.escape(json.dumps([f.to_json() for f in figures]), quote=True)
    rows = []
    for f in figures:
        colour = "#1a7f37" if f.verdict == "PASS" else "#cf222e"
        bound = (
            f"{fmt(f.threshold)} ± {fmt(f.tolerance)}"
            if f.comparison == "within"
            else f"{html.escape(f.comparison)} {fmt(f.threshold)}"
        )
        rows.append(
            "<tr>"
            f"<td>{html.escape(f.criterion)}</td><td>{html.escape(f.name)}</td>"
            f"<td style='text-align:right'>{fmt(f.value)}</td><td>{html.escape(f.unit)}</td>"
            f"<td>{bound}</td><td style='text-align:right'>{fmt(f.margin)}</td>"
            f"<td style='color:{colour};font-weight:bold'>{f.verdict}</td>"
            f"<td>{html.escape(f.note)}</td></tr>"
        )
    return (
        f"<table class='wsr-figures' data-figures=\"{payload}\" "
        "style='border-collapse:collapse' border='1' cellpadding='3'>"
        f"<caption style='text-align:left;font-weight:bold'>{html.escape(title)}</caption>"
        "<tr><th>criterion</th><th>figure</th><th>value</th><th>unit</th><th>threshold</th>"
        "<th>margin</th><th>verdict</th><th>note</th></tr>" + "".join(rows) + "</table>"
    )


def html_table(headers: list[str], rows: list[list[object]], caption: str = "") -> str:
    """A plain HTML table; cells are escaped and numbers formatted."""

    def cell(value: object) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"<td style='text-align:right'>{fmt(value)}</td>"
        return f"<td>{html.escape(str(value))}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(cell(c) for c in row) + "</tr>" for row in rows)
    cap = f"<caption style='text-align:left;font-weight:bold'>{html.escape(caption)}</caption>"
    return (
        "<table style='border-collapse:collapse' border='1' cellpadding='3'>"
        f"{cap if caption else ''}<tr>{head}</tr>{body}</table>"
    )
