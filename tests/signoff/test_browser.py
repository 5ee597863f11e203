"""signoff.html and a log.html with charts, rendered in real headless Chromium.

Asserts that the sign-off page shows every test ID of the run, that its links land on the
tests in log.html, and that every chart SVG in the log renders with a non-empty box (its
marks and text too). Screenshots go to ``results/`` for a human to look at.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from robot.api import ExecutionResult

from wsresilience.signoff import write_signoff
from wsresilience.signoff.model import TEST_ID

from support import REPO
from support.cdp import CHROMIUM, chromium
from support.signoff_fixtures import run_robot, write_suites

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

CHART_COUNT = 5


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
        page.screenshot(RESULTS / "browser-log-charts.png")
        for index, chart in enumerate(charts, 1):
            clip = {"x": chart["x"], "y": chart["y"], "width": chart["w"], "height": chart["h"]}
            page.screenshot(RESULTS / f"browser-chart-{index}.png", clip=clip)
    assert (RESULTS / "browser-log-charts.png").stat().st_size > 10_000
