"""Figures beside their thresholds: verdicts, margins, and the table the sign-off reads."""

from __future__ import annotations

import json

import pytest

from wsresilience.core.evidence.figures import Figure, figure_table


@pytest.mark.parametrize(
    ("value", "comparison", "threshold", "passed", "margin"),
    [
        (80, "<", 100, True, 20),
        (120, "<", 100, False, -20),
        (5, ">=", 5, True, 0),
        (0, "==", 0, True, 0),
        (1, "==", 0, False, -1),
    ],
)
def test_figures_judge_and_measure_their_margin(value, comparison, threshold, passed, margin) -> None:
    figure = Figure("f", value, "ms", threshold, comparison)
    assert figure.passed is passed
    assert figure.verdict == ("PASS" if passed else "FAIL")
    assert figure.margin == pytest.approx(margin)


def test_within_and_nan_figures() -> None:
    assert Figure("spacing", 0.52, "s", 0.5, "within", tolerance=0.05).passed
    assert not Figure("spacing", 0.56, "s", 0.5, "within", tolerance=0.05).passed
    assert not Figure("missing", float("nan"), "s", 1, "<=").passed


def test_figure_table_carries_json_for_the_signoff() -> None:
    html_text = figure_table([Figure("RTT p95", 12.5, "ms", 100, "<", "AC-007.1")])
    assert "class='wsr-figures'" in html_text
    start = html_text.index('data-figures="') + len('data-figures="')
    payload = html_text[start : html_text.index('"', start)]
    import html as html_module

    figures = json.loads(html_module.unescape(payload))
    assert figures[0]["criterion"] == "AC-007.1"
    assert figures[0]["margin"] == pytest.approx(87.5)
