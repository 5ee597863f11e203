"""Render the sign-off model as one self-contained HTML page (inline CSS, no scripts, printable).

The page reads top-down the way a sign-off does: the overall verdict, what was run against
what, a summary row per test ID, then per test ID each criterion with its verdict, the tests
that prove it (linked into log.html), the reasons for a failure or skip, and its key figures
against their thresholds. Stable hooks for tools: every test ID section has
``id``/``data-test-id``, every criterion a ``tbody`` with ``id`` and ``data-verdict``.
"""

from __future__ import annotations

import html
import re
from datetime import datetime

from robot.utils import html_format

from .baseline import Comparison
from .evidence_view import evidence
from .headline import describe_target, target_lines, target_lines_of, title
from .model import FAIL, NOT_RUN, PASS, SKIP, Criterion, SignOff, TestIdSection, TestResult
from .stale import GENERATOR_META, JUNIT_META_NAME

CSS = """
:root { --pass:#1a7f37; --fail:#cf222e; --skip:#9a6700; --none:#6e7781; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif;
       color:#1f2328; margin: 0 auto; padding: 20px 28px 40px; max-width: 1180px; }
h1 { font-size: 22px; margin: 0 0 8px; } h2 { font-size: 18px; margin: 0; }
a { color: #0969da; } code { font-size: 12px; }
.overall { display:flex; align-items:center; gap:16px; padding:12px 16px; border-radius:6px;
           border:2px solid var(--none); margin: 8px 0 18px; }
.overall .word { font-size: 26px; font-weight: 800; letter-spacing: .5px; }
.overall.PASS { border-color: var(--pass); background:#dafbe1; } .overall.PASS .word { color: var(--pass); }
.overall.FAIL { border-color: var(--fail); background:#ffebe9; } .overall.FAIL .word { color: var(--fail); }
.overall.INCOMPLETE { border-color: var(--skip); background:#fff8c5; } .overall.INCOMPLETE .word { color: var(--skip); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
table.meta { width: auto; } table.meta th { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { display:inline-block; min-width: 64px; text-align:center; padding: 1px 8px; border-radius: 10px;
         font-size: 12px; font-weight: 700; color:#fff; background: var(--none); white-space: nowrap; }
.badge.PASS { background: var(--pass); } .badge.FAIL { background: var(--fail); }
.badge.SKIP, .badge.INCOMPLETE { background: var(--skip); } .badge.NOT-RUN { background: var(--none); }
.testid { border-top: 3px solid #1f2328; margin-top: 26px; padding-top: 10px; }
.testid header { display:flex; gap: 12px; align-items: center; margin-bottom: 6px; }
tbody.criterion { break-inside: avoid; page-break-inside: avoid; }
tbody.criterion > tr.detail > td { background: #fbfcfd; padding: 6px 10px 10px 28px; }
.cid { font-weight: 700; white-space: nowrap; }
.reasons { margin: 2px 0 6px; padding-left: 18px; }
.reasons li { white-space: pre-wrap; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.reasons.FAIL li { color: var(--fail); } .reasons.SKIP li { color: var(--skip); }
table.figures { width: auto; min-width: 60%; margin: 4px 0 0; font-size: 13px; }
table.figures.quiet { color: #57606a; font-size: 12px; }
a.log { font-size: 11px; } figure.chart { margin: 8px 0 4px; } figure.chart svg { max-width: 100%; height: auto; }
.trend-drifted, .trend-crossed, .trend-still-failing { color: var(--fail); font-weight: 700; }
.trend-improved, .trend-recovered { color: var(--pass); } .trend-new { color: var(--none); }
.baseline { border: 1px solid var(--line); padding: 8px 12px; border-radius: 6px; margin: 0 0 14px; }
table.figures caption { text-align:left; font-weight:600; font-size: 12px; color:#57606a; }
.tests a, .tests span { white-space: nowrap; }
.status-FAIL { color: var(--fail); font-weight: 700; } .status-SKIP { color: var(--skip); font-weight: 700; }
.status-PASS { color: var(--pass); font-weight: 700; }
.muted { color: #57606a; } .note { color:#57606a; font-size: 12px; }
p.req { margin: 0; } p.req p { margin: 0; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; } a { color: inherit; text-decoration: none; }
  .testid { break-before: auto; } th { background: #eee !important; }
  .badge, .overall { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def e(value: object) -> str:
    """Escape text for HTML."""
    return html.escape(str(value), quote=True)


def doc_html(text: str) -> str:
    """Robot documentation syntax (``*bold*``, ````code````, URLs) as inline HTML, escaped."""
    rendered = html_format(text)
    return re.sub(r"^<p>(.*)</p>$", r"\1", rendered, flags=re.S)


def badge(verdict: str) -> str:
    return f'<span class="badge {verdict.replace(" ", "-")}">{e(verdict)}</span>'


def render(signoff: SignOff, log_href: str | None, junit_href: str | None = None,
           comparison: Comparison | None = None) -> str:
    """The whole sign-off page; ``log_href`` is log.html relative to the page (None: no links).

    With ``comparison`` (a baseline run, :mod:`wsresilience.signoff.baseline`) every figure
    shows its change since that run, and a box under the verdict names what drifted towards
    its threshold, what crossed it, and which criteria only one of the runs has.

    The head marks the page as the sign-off's and names the JUnit file written with it
    (``junit_href``, relative to the page), so the next run into the folder can tell the two
    from files of the user's own and remove them (:mod:`wsresilience.signoff.stale`).
    """
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        GENERATOR_META,
        f'<meta name="{JUNIT_META_NAME}" content="{e(junit_href)}">' if junit_href else "",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{e(title(signoff))} — {e(signoff.verdict)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{e(title(signoff))}</h1>",
        _overall(signoff),
        _baseline(comparison) if comparison is not None else "",
        _run_table(signoff, log_href),
        _summary(signoff),
    ]
    # Metadata the whole run shares is in the Run table; a section shows only its own.
    parts += [_section(section, log_href, signoff.run_metadata, comparison) for section in signoff.sections]
    if signoff.untracked:
        parts.append(
            "<section class='testid' id='untracked'><header><h2>Tests without a test ID</h2></header>"
            "<p class='muted'>These tests carry no <code>WS-…</code> test ID tag and no criterion tag of a "
            "listed test ID; they count towards the overall verdict.</p>"
            + _test_list(signoff.untracked, log_href, with_messages=True)
            + "</section>"
        )
    parts.append(
        f"<p class='note'>Generated from <code>{e(signoff.source.name)}</code> by "
        "<code>python -m wsresilience.signoff</code>. Verdicts: a criterion PASSes when every test tagged "
        "with it passed, FAILs when any failed, is SKIP when none failed but some were skipped, and "
        "NOT RUN when no test in this run carries its tag.</p></body></html>"
    )
    return "\n".join(parts)


def _overall(signoff: SignOff) -> str:
    counts = _verdict_counts(signoff.criteria)
    totals = signoff.totals
    criteria = ", ".join(f"{n} {v.lower()}" for v, n in counts.items() if n) or "no criteria found"
    explanation = (
        f"{len(signoff.criteria)} criteria across {len(signoff.sections)} test ID(s): {criteria}. "
        f"{totals['total']} tests: {totals['passed']} passed, {totals['failed']} failed, "
        f"{totals['skipped']} skipped."
    )
    if signoff.verdict == "INCOMPLETE":
        explanation += " Nothing failed, but not every criterion was proven in this run."
    return (
        f"<div class='overall {e(signoff.verdict)}' id='overall' data-verdict='{e(signoff.verdict)}'>"
        f"<span class='word'>{e(signoff.verdict)}</span><span>{e(explanation)}</span></div>"
    )


def _run_table(signoff: SignOff, log_href: str | None) -> str:
    rows: list[tuple[str, str]] = [
        ("Started", e(_when(signoff.start))),
        ("Finished", e(_when(signoff.end))),
        ("Duration", e(_duration(signoff))),
    ]
    for key, values in signoff.run_metadata.items():
        if key == "Target":
            rows.append((key, "<br>".join(e(line) for line in target_lines(signoff))))
        elif key != "Protocol":
            rows.append((key, "<br>".join(doc_html(v) for v in values)))
    rows.append(("Generated by", e(signoff.generator or "Robot Framework")))
    rows.append(("Output", f"<code>{e(signoff.source.name)}</code>"))
    if log_href:
        rows.append(("Log", f"<a href='{e(log_href)}'>{e(log_href)}</a>"))
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<h2>Run</h2><table class='meta' id='run'>{body}</table>"


def _summary(signoff: SignOff) -> str:
    if not signoff.sections:
        return "<p class='muted' id='summary'>No test ID found in this output: no suite documents criteria " \
               "and no test carries a test ID tag.</p>"
    head = (
        "<tr><th rowspan='2'>Test ID</th><th rowspan='2'>Suite</th><th rowspan='2'>Verdict</th>"
        "<th colspan='4'>Criteria</th><th colspan='4'>Tests</th></tr><tr>"
        + "".join(f"<th>{v.lower()}</th>" for v in (PASS, FAIL, SKIP, NOT_RUN))
        + "".join(f"<th>{v}</th>" for v in ("run", "passed", "failed", "skipped")) + "</tr>"
    )
    rows = []
    for s in signoff.sections:
        counts = _verdict_counts(s.criteria)
        tests = _section_tests(s)
        statuses = [t.status for t in tests]
        rows.append(
            f"<tr><td><a href='#{e(s.test_id)}'>{e(s.test_id)}</a></td><td>{e(s.title)}</td>"
            f"<td>{badge(s.verdict)}</td>"
            + "".join(f"<td class='num'>{counts[v]}</td>" for v in (PASS, FAIL, SKIP, NOT_RUN))
            + f"<td class='num'>{len(tests)}</td>"
            + "".join(f"<td class='num'>{statuses.count(v)}</td>" for v in (PASS, FAIL, SKIP))
            + "</tr>"
        )
    return f"<h2>Summary by test ID</h2><table id='summary'>{head}{''.join(rows)}</table>"


def _targets(run_metadata: dict[str, list[str]]) -> list[str]:
    return [line for line in target_lines_of(run_metadata) if not line.startswith("protocol: ")]


def _section_tests(section: TestIdSection) -> list[TestResult]:
    """Every test of a section once (a test proving two criteria counts once)."""
    seen: dict[str, TestResult] = {}
    for test in [t for c in section.criteria for t in c.tests] + section.other_tests:
        seen.setdefault(test.id, test)
    return list(seen.values())


def _baseline(comparison: Comparison) -> str:
    """The trend box: what moved towards its threshold since the baseline run, in words."""
    flagged = comparison.flagged
    lines = []
    for (cid, name, _), trend in flagged:
        lines.append(f"<li><a href='#{e(cid)}'>{e(cid)}</a> {e(name)}: <span class='trend-{e(trend.status)}'>"
                     f"{e(trend.status)}</span></li>")
    for cid in comparison.criteria_gone:
        lines.append(f"<li>{e(cid)}: ran in the baseline, not in this run</li>")
    for cid in comparison.criteria_new:
        lines.append(f"<li><a href='#{e(cid)}'>{e(cid)}</a>: ran in this run, not in the baseline</li>")
    summary = (
        f"{len(flagged)} figure(s) moved towards their threshold by more than {comparison.drift:.0%} of their "
        f"margin, or crossed it, since the baseline <code>{e(comparison.baseline.name)}</code> "
        f"(<code>{e(comparison.baseline.parent.name)}</code>)."
        if flagged else
        f"No figure moved towards its threshold by more than {comparison.drift:.0%} of its margin since the "
        f"baseline <code>{e(comparison.baseline.name)}</code> (<code>{e(comparison.baseline.parent.name)}</code>)."
    )
    items = f"<ul>{''.join(lines)}</ul>" if lines else ""
    return f"<div class='baseline' id='baseline' data-flagged='{len(flagged)}'><p>{summary}</p>{items}</div>"


def _section(section: TestIdSection, log_href: str | None, run_metadata: dict[str, list[str]],
             comparison: Comparison | None = None) -> str:
    shared = {k.lower() for k, values in run_metadata.items() if len(values) == 1}
    meta = "".join(
        f"<tr><th>{e(k)}</th><td>{e(describe_target(v)) if k == 'Target' else doc_html(v)}</td></tr>"
        for k, v in section.metadata.items()
        if k.lower() not in shared and k.lower() != "test id"
        and not (k == "Target" and len(_targets(run_metadata)) == 1)
    )
    link = (
        f" <a class='muted' href='{e(log_href)}#{e(section.suite_ids[0])}'>suite in log</a>"
        if log_href and section.suite_ids
        else ""
    )
    parts = [
        f"<section class='testid' id='{e(section.test_id)}' data-test-id='{e(section.test_id)}'>",
        f"<header><h2>{e(section.test_id)} · {e(section.title)}</h2>{badge(section.verdict)}{link}</header>",
        f"<table class='meta'>{meta}</table>" if meta else "",
        "<table class='criteria'><tr><th>Criterion</th><th>Requirement</th><th>Verdict</th>"
        "<th>Proven by</th></tr>",
    ]
    parts += [_criterion(c, log_href, comparison) for c in section.criteria]
    parts.append("</table>")
    if section.other_tests:
        parts.append(
            "<p class='muted'>Tests with this test ID but no criterion tag:</p>"
            + _test_list(section.other_tests, log_href, with_messages=True)
        )
    parts.append("</section>")
    return "".join(parts)


def _criterion(criterion: Criterion, log_href: str | None, comparison: Comparison | None = None) -> str:
    verdict = criterion.verdict
    requirement = doc_html(criterion.requirement) if criterion.requirement else ""
    if not criterion.documented:
        requirement += " <span class='muted'>(tagged on tests but not in the suite documentation)</span>"
    tests = (
        "<br>".join(_test_link(t, log_href) for t in criterion.tests)
        if criterion.tests
        else "<span class='muted'>no test in this run carries this tag</span>"
    )
    row = (
        f"<tr><td class='cid'>{e(criterion.id)}</td><td><p class='req'>{requirement}</p></td>"
        f"<td>{badge(verdict)}</td><td class='tests'>{tests}</td></tr>"
    )
    details = []
    if criterion.reasons:
        items = "".join(f"<li>{e(r)}</li>" for r in criterion.reasons)
        details.append(f"<ul class='reasons {verdict}'>{items}</ul>")
    if comparison is not None and comparison.verdicts_before.get(criterion.id, verdict) != verdict:
        details.append(f"<p class='note'>Verdict in the baseline: {e(comparison.verdicts_before[criterion.id])}</p>")
    details.append(evidence(criterion, log_href, comparison))
    details = [d for d in details if d]
    detail = f"<tr class='detail'><td colspan='4'>{''.join(details)}</td></tr>" if details else ""
    return (
        f"<tbody class='criterion' id='{e(criterion.id)}' data-verdict='{e(verdict)}'>{row}{detail}</tbody>"
    )


def _test_link(test: TestResult, log_href: str | None) -> str:
    status = f"<span class='status-{e(test.status)}'>{e(test.status)}</span>"
    name = (
        f"<a href='{e(log_href)}#{e(test.id)}' title='{e(test.longname)}'>{e(test.name)}</a>"
        if log_href
        else f"<span title='{e(test.longname)}'>{e(test.name)}</span>"
    )
    return f"{name} {status}"


def _test_list(tests: list[TestResult], log_href: str | None, with_messages: bool) -> str:
    items = []
    for test in tests:
        message = f" <span class='note'>{e(test.message)}</span>" if with_messages and test.message else ""
        items.append(f"<li>{_test_link(test, log_href)}{message}</li>")
    return f"<ul class='tests'>{''.join(items)}</ul>"


def _verdict_counts(criteria: list[Criterion]) -> dict[str, int]:
    counts = {PASS: 0, FAIL: 0, SKIP: 0, NOT_RUN: 0}
    for c in criteria:
        counts[c.verdict] += 1
    return counts


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "unknown"


def _duration(signoff: SignOff) -> str:
    if not (signoff.start and signoff.end):
        return "unknown"
    seconds = (signoff.end - signoff.start).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{int(seconds // 60)} min {seconds % 60:.0f} s"
