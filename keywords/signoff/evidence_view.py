"""A criterion's evidence on the page: its figures (aggregated, one set of units) and its chart.

Under each criterion the page shows:

* a table of its figure rows (:mod:`wsresilience.signoff.rows`): the value (or min / median /
  max when a figure was logged several times), the threshold, the worst margin, the verdict,
  with a baseline run the change since it (:mod:`wsresilience.signoff.baseline`), and a link
  to ``log.html#<keyword id>``, which Robot's log opens expanded at the keyword that logged it;
* figures its tests checked on the way (with no criterion, and a bound of their own) in a
  second, quieter table, so their bounds do not read as the criterion's;
* the one chart that shows it, inline: one logged by a keyword that judged its figures (the
  per-round memory chart of the leak check, not the first round's), else the first its tests
  logged, a failed test's first; and links to the others.
"""

from __future__ import annotations

import html
import math

from .baseline import Comparison, Trend
from .model import Criterion
from .rows import Row, page_rows
from .units import show, signed


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def evidence(criterion: Criterion, log_href: str | None, comparison: Comparison | None) -> str:
    """The figures tables and the chart of one criterion (empty string when there is neither)."""
    rows = page_rows(criterion)
    parts = []
    own = [r for r in rows if not r.on_the_way]
    aside = [r for r in rows if r.on_the_way]
    if own:
        parts.append(_table(own, "Key figures", log_href, comparison))
    if aside:
        parts.append(_table(aside, "Checked on the way (their own bounds, not this criterion's)",
                            log_href, comparison, quiet=True))
    if comparison is not None and criterion.id in comparison.gone:
        names = ", ".join(r.name for r in comparison.gone[criterion.id])
        parts.append(f"<p class='note trend-gone'>In the baseline but not in this run: {e(names)}.</p>")
    parts.append(_chart(criterion, log_href, {k for r in own for k in r.keywords}))
    return "".join(parts)


def _table(rows: list[Row], caption: str, log_href: str | None, comparison: Comparison | None,
           quiet: bool = False) -> str:
    head = "<tr><th>Figure</th><th>Value</th><th>Threshold</th><th>Margin</th><th>Verdict</th>"
    head += "<th>Since baseline</th>" if comparison is not None else ""
    head += "<th>Note</th></tr>"
    body = [_row(r, log_href, comparison) for r in rows]
    css = "figures quiet" if quiet else "figures"
    return f"<table class='{css}'><caption>{e(caption)}</caption>{head}{''.join(body)}</table>"


def _row(row: Row, log_href: str | None, comparison: Comparison | None) -> str:
    name = f"<span class='fname'>{e(row.name)}</span>"
    name += f" <span class='muted'>({row.count} logged)</span>" if row.count > 1 else ""
    if log_href and row.keywords:
        name += f" <a class='log' href='{e(log_href)}#{e(row.keywords[0])}' title='open in log.html'>log</a>"
    trend = ""
    if comparison is not None:
        trend = f"<td class='num trend'>{_trend(comparison.trend(row), row)}</td>"
    verdict = row.verdict
    return (
        f"<tr class='figure' data-verdict='{e(verdict)}'><td>{name}</td>"
        f"<td class='num'>{e(_value(row))}</td><td class='num'>{e(_bound(row))}</td>"
        f"<td class='num'>{e(signed(row.margin, row.unit))}</td>"
        f"<td class='status-{e(verdict)}'>{e(verdict)}</td>{trend}<td class='note'>{e(row.note)}</td></tr>"
    )


def _value(row: Row) -> str:
    lo, mid, hi = row.spread
    if row.count == 1 or any(math.isnan(v) for v in row.values):
        return show(row.worst, row.unit)
    if lo == hi:
        return f"{show(lo, row.unit)} (all {row.count})"
    return f"min {show(lo, '')} · median {show(mid, '')} · max {show(hi, row.unit)}"


def _bound(row: Row) -> str:
    if row.comparison == "within":
        return f"{show(row.threshold, '')} ± {show(row.tolerance, row.unit)}"
    return f"{row.comparison} {show(row.threshold, row.unit)}"


def _trend(trend: Trend, row: Row) -> str:
    """``+1.2 ms (was 3 ms) drifted``: the change of the worst value, in the row's page unit."""
    if trend.status == "new":
        return "<span class='trend-new'>new</span>"
    change = trend.change * row.factor
    was = show(trend.before * row.factor, row.unit)
    css = f"trend-{trend.status.replace(' ', '-')}"
    used = f", {trend.used:.0%} of the margin used" if trend.status == "drifted" else ""
    return (f"{e(signed(change, row.unit))} <span class='muted'>(was {e(was)})</span> "
            f"<span class='{css}'>{e(trend.status)}{e(used)}</span>")


def _chart(criterion: Criterion, log_href: str | None, judged_by: set[str]) -> str:
    """The chart that shows the criterion: one logged by a keyword that judged its figures,
    else the first its tests logged (a failed test's first); links to the others."""
    charts = criterion.charts()
    if not charts:
        return ""
    test, chart = next(((t, c) for t, c in charts if c.keyword_id in judged_by), charts[0])
    link = (f" <a href='{e(log_href)}#{e(chart.keyword_id)}'>open in log.html at "
            f"{e(chart.keyword_name or 'the keyword')}</a>" if log_href else "")
    others = [c for _, c in charts if c.svg != chart.svg]
    more = ""
    if others and log_href:
        links = ", ".join(f"<a href='{e(log_href)}#{e(c.keyword_id)}'>{e(c.title)}</a>" for c in others)
        more = f"<p class='note'>More charts in the log: {links}</p>"
    return (f"<figure class='chart'>{chart.svg}<figcaption class='note'>{e(chart.title)} "
            f"({e(test.name)}).{link}</figcaption></figure>{more}")
