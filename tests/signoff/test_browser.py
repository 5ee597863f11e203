"""signoff.html and log.html with charts, rendered in real headless Chromium.

Asserts that the sign-off page shows every test ID of the run, that its links land on the
tests in log.html, and that every chart SVG in the log renders with a non-empty box (its
marks and text too). On a full run of the real suites, for every chart in log.html and on the
sign-off page: every text lies inside its SVG and over no other text, and every threshold a
legend names is drawn (:mod:`support.chart_geometry`); every criterion shows its figures, and
a chart's link opens log.html expanded at the keyword that logged it. Screenshots go to
``results/`` for a human to look at.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from robot.api import ExecutionResult

from wsresilience.signoff import load, write_signoff
from wsresilience.signoff.model import TEST_ID

from support import REPO
from support.cdp import CHROMIUM, chromium
from support.chart_geometry import chart_problems
from support.signoff_fixtures import run_robot, write_suites
from support.suite_runner import run as run_suites

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed (CI installs it with .ci/install-chromium.sh)"
)

RESULTS = REPO / "results"

CHARTS_LIBRARY = '''
from robot.api import logger
from support.chart_samples import sample_charts


def log_sample_charts():
    """Log one chart of each kind, as the libraries will."""
    for svg in sample_charts().values():
        logger.info(svg, html=True)
'''

CHARTS_SUITE = """*** Settings ***
Library    ChartLog.py

*** Test Cases ***
Heartbeat Evidence Is Charted
    [Tags]    WS-RESILIENCE-007    AC-007.1
    Log Sample Charts
"""

CHART_COUNT = 6


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    suites = write_suites(tmp / "suites")
    (suites / "ChartLog.py").write_text(CHARTS_LIBRARY)
    (suites / "charts.robot").write_text(CHARTS_SUITE)
    output = run_robot(tmp, variable=["FAIL_ZOMBIE:True", "NO_METRICS:True"], pythonpath=(str(REPO / "tests"),))
    write_signoff(output)
    return output


def test_signoff_page_shows_every_test_id(run: Path) -> None:
    expected = sorted({str(t).upper() for test in ExecutionResult(str(run)).suite.all_tests
                       for t in test.tags if TEST_ID.match(str(t))})
    assert expected == ["WS-RESILIENCE-001", "WS-RESILIENCE-002", "WS-RESILIENCE-006", "WS-RESILIENCE-007"]
    with chromium() as page:
        page.navigate((run.parent / "signoff.html").as_uri())
        shown = page.evaluate(
            """Array.from(document.querySelectorAll('section[data-test-id]')).map(s => {
                   const r = s.getBoundingClientRect();
                   return {id: s.dataset.testId, w: r.width, h: r.height,
                           visible: document.body.innerText.includes(s.dataset.testId)};
               })"""
        )
        assert [s["id"] for s in shown] == expected
        assert all(s["w"] > 0 and s["h"] > 0 and s["visible"] for s in shown), shown
        verdict = page.evaluate("document.getElementById('overall').innerText")
        assert verdict.startswith("FAIL")
        page.screenshot(RESULTS / "browser-signoff.png")

        link = page.evaluate("document.querySelector('tbody#AC-007\\\\.2 a[href*=\"log.html#\"]').href")
        page.navigate(link)
        anchor = link.rpartition("#")[2]
        box = page.wait_until(
            f"(e => e && e.getBoundingClientRect().height > 0 && e.innerText)(document.getElementById({json.dumps(anchor)}))",
            f"test {anchor} to show in log.html",
        )
        assert "Zombie Client Is Terminated" in box


def test_log_charts_render(run: Path) -> None:
    test = next(t for t in ExecutionResult(str(run)).suite.all_tests if t.name == "Heartbeat Evidence Is Charted")
    with chromium() as page:
        page.navigate(f"{(run.parent / 'log.html').as_uri()}#{test.id}")  # the log opens the path to it
        page.wait_until(f"document.getElementById({json.dumps(test.id)})", "log.html to render the test")
        page.evaluate(f"expandAll({json.dumps(test.id)}), true")
        page.wait_until(f"document.querySelectorAll('svg.wsr-chart').length >= {CHART_COUNT}", "charts in the log")
        charts = page.evaluate(
            """Array.from(document.querySelectorAll('svg.wsr-chart')).map(svg => {
                   const r = svg.getBoundingClientRect();
                   const marks = Array.from(svg.querySelectorAll('rect, circle, path, polyline'))
                       .filter(e => { const b = e.getBBox(); return b.width > 0 || b.height > 0; }).length;
                   const texts = Array.from(svg.querySelectorAll('text'))
                       .filter(t => t.getComputedTextLength() > 0).length;
                   return {title: svg.querySelector('title').textContent, x: r.left + scrollX,
                           y: r.top + scrollY, w: r.width, h: r.height, marks, texts,
                           dashed: svg.querySelectorAll('[stroke-dasharray]').length};
               })"""
        )
        assert len(charts) == CHART_COUNT
        for chart in charts:
            assert chart["w"] >= 600 and chart["h"] >= 150, chart
            assert chart["marks"] >= 5 and chart["texts"] >= 8, chart
            assert chart["dashed"] >= 1, chart  # thresholds / bounds drawn as dashed lines
        count, problems = chart_problems(page)
        assert count == CHART_COUNT and problems == []
        page.screenshot(RESULTS / "browser-log-charts.png")
        for index, chart in enumerate(charts, 1):
            clip = {"x": chart["x"], "y": chart["y"], "width": chart["w"], "height": chart["h"]}
            page.screenshot(RESULTS / f"browser-chart-{index}.png", clip=clip)
    assert (RESULTS / "browser-log-charts.png").stat().st_size > 10_000


# -- a full run of the real suites -------------------------------------------------------------------


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every suite against the bundled server, with the sign-off listener (about 2 minutes).

    The verdicts are the suites' tests' business (tests/suites); here a timing figure that a
    busy machine pushes over its bound changes a verdict, not what the page must show.
    """
    out = tmp_path_factory.mktemp("full-run")
    run_suites("", out, ["--listener", "wsresilience.SignOffListener"], timeout=1200)
    return out / "output.xml"


def test_full_run_log_charts_read_at_a_glance(full_run: Path) -> None:
    logged = load(full_run)
    expected = sum(len(t.charts) for t in {t.id: t for c in logged.criteria for t in c.tests}.values())
    assert expected >= 20  # 001 draws its reconnect cycles now, 002 its resumes, 006 and 007 theirs
    with chromium(timeout=300) as page:  # expanding the whole log takes a minute on a busy machine
        page.navigate((full_run.parent / "log.html").as_uri())
        page.wait_until("window.testdata && document.getElementById('s1')", "log.html to render")
        page.evaluate("expandAll('s1'), true")
        page.wait_until(f"document.querySelectorAll('svg.wsr-chart').length >= {expected}",
                        f"{expected} charts in the expanded log", timeout_s=280)
        count, problems = chart_problems(page)
        assert count == expected
        assert problems == []
        boxes = page.evaluate(BOXES_JS)
        for index, box in enumerate(boxes, 1):
            page.screenshot(RESULTS / f"browser-full-log-chart-{index:02d}.png", clip=box)


def test_full_run_signoff_page_carries_the_evidence(full_run: Path) -> None:
    signoff = load(full_run)
    with chromium(timeout=60) as page:
        page.navigate((full_run.parent / "signoff.html").as_uri())
        heading = page.evaluate("document.querySelector('h1').innerText")
        assert heading == "Sign-off: WS-RESILIENCE-001, 002, 006, 007 against the bundled reference server"
        target = page.evaluate("Array.from(document.querySelectorAll('#run tr')).find(r => "
                               "r.querySelector('th').innerText === 'Target').querySelector('td').innerText")
        assert target == "bundled reference server\nprotocol: reference"  # the profile spoken, from the metadata
        shown = page.evaluate(CRITERIA_JS)
        assert sorted(shown) == sorted(c.id for c in signoff.criteria)
        verdicts = {c.id: c.verdict for c in signoff.criteria}
        for cid, criterion in shown.items():
            assert criterion["verdict"] == verdicts[cid] and criterion["figures"] >= 1, (cid, criterion)
        charted = {c.id for c in signoff.criteria if c.charts()}
        assert {cid for cid, c in shown.items() if c["charts"] == 1} == charted
        assert "AC-001.4" in charted and shown["AC-001.4"]["chartTitle"].startswith("History retrieval per reconnect")
        count, problems = chart_problems(page)
        assert count == len(charted) and problems == []
        page.screenshot(RESULTS / "browser-full-signoff.png")
        link = shown["AC-006.4"]["chartLink"]
        assert "Server resources after each flapping round" in shown["AC-006.4"]["chartTitle"]
        page.navigate(link)
        anchor = link.rpartition("#")[2]
        page.wait_until(f"(e => e && e.querySelector('svg.wsr-chart') && "
                        f"e.querySelector('svg.wsr-chart').getBoundingClientRect().height > 0)"
                        f"(document.getElementById({json.dumps(anchor)}))",
                        f"the chart's keyword {anchor} to open expanded in log.html")


BOXES_JS = """Array.from(document.querySelectorAll('svg.wsr-chart')).map(svg => {
    const r = svg.getBoundingClientRect();
    return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height};
})"""

CRITERIA_JS = """Object.fromEntries(Array.from(document.querySelectorAll('tbody.criterion')).map(t => {
    const svg = t.querySelector('svg.wsr-chart');
    const link = t.querySelector('figure.chart figcaption a');
    return [t.id, {verdict: t.dataset.verdict, figures: t.querySelectorAll('tr.figure').length,
                   charts: t.querySelectorAll('svg.wsr-chart').length,
                   chartTitle: svg ? svg.querySelector('title').textContent : '',
                   chartLink: link ? link.href : ''}];
}))"""
