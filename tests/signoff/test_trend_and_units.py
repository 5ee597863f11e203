"""Units, aggregation and the baseline comparison of the sign-off page, on crafted outputs.

The outputs are real Robot runs (robot, pabot, and Robot's JSON output) of a small suite whose
library logs figure tables with values given as variables, so a baseline run and a later run
differ exactly as a test wants: a figure that improved, one that moved towards its threshold
but still passes, one that crossed it, and a criterion that only the baseline ran.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import robot

from wsresilience.signoff import load, load_baseline, write_signoff
from wsresilience.signoff.baseline import CROSSED, DRIFTED, IMPROVED, NEW, STEADY, judge_trend
from wsresilience.signoff.rows import Row, criterion_rows, generic_name, page_rows
from wsresilience.signoff.units import display_unit, show, signed

from support import REPO
from support.signoff_fixtures import parse_page

LIBRARY = '''
from robot.api import logger
from wsresilience.core.evidence.figures import Figure, figure_table


def log_figures(criterion, *figures):
    """Each figure is name|value|unit|comparison|threshold."""
    parsed = []
    for spec in figures:
        name, value, unit, comparison, threshold = spec.split("|")
        parsed.append(Figure(name, float(value), unit, float(threshold), comparison, criterion))
    logger.info(figure_table(parsed), html=True)
    failed = [f.describe() for f in parsed if not f.passed]
    if failed:
        raise AssertionError("; ".join(failed))
'''

SUITE = """*** Settings ***
Documentation    | AC-900.1 | Latency stays low. |
...              | AC-900.2 | Memory stays bounded. |
...              | AC-900.3 | Termination is quick. |
...              | AC-900.4 | Only the baseline ran this. |
Metadata         Test ID    WS-RESILIENCE-900
Metadata         Target    ws://127.0.0.1:1234/ (bundled reference server)
Library          Figures.py
Test Tags        WS-RESILIENCE-900

*** Variables ***
${LATENCY}    50
${MEMORY}     10
${TERMINATION}    0.9

*** Test Cases ***
Latency
    [Tags]    AC-900.1
    Log Figures    AC-900.1    alice-1: latency|${LATENCY}|ms|<|100    bob-2: latency|${LATENCY}|ms|<|100

Memory
    [Tags]    AC-900.2
    Log Figures    AC-900.2    memory kept|${MEMORY}|KiB|<=|100

Termination
    [Tags]    AC-900.3
    Log Figures    AC-900.3    termination|${TERMINATION}|s|<=|1

Only Then
    [Tags]    AC-900.4
    Log Figures    AC-900.4    checks|1||==|1
"""

BASELINE = {"LATENCY": "50", "MEMORY": "10", "TERMINATION": "0.9"}
LATER = {"LATENCY": "20", "MEMORY": "60", "TERMINATION": "1.2"}


def write_suite(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Figures.py").write_text(LIBRARY)
    (directory / "trend.robot").write_text(SUITE)
    return directory


def run_robot(tmp: Path, variables: dict[str, str], output: str = "output.xml", *exclude: str) -> Path:
    suites = write_suite(tmp / "suites")
    out = tmp / "out"
    robot.run(str(suites), outputdir=str(out), output=output, console="none", exclude=list(exclude),
              pythonpath=[str(REPO), str(suites)], variable=[f"{k}:{v}" for k, v in variables.items()])
    return out / output


def run_pabot(tmp: Path, variables: dict[str, str]) -> Path:
    suites = write_suite(tmp / "suites")
    out = tmp / "out"
    command = [sys.executable, "-m", "pabot.pabot", "--no-pabotlib", "--testlevelsplit", "--processes", "2",
               "--outputdir", str(out), "--pythonpath", str(REPO), "--pythonpath", str(suites),
               "--exclude", "AC-900.4"]
    for key, value in variables.items():
        command += ["--variable", f"{key}:{value}"]
    done = subprocess.run([*command, str(suites)], cwd=tmp, capture_output=True, text=True, timeout=180)
    assert (out / "output.xml").is_file(), done.stdout + done.stderr
    return out / "output.xml"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_robot(tmp_path_factory.mktemp("baseline"), BASELINE)


@pytest.fixture(scope="module")
def later(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_robot(tmp_path_factory.mktemp("later"), LATER, "output.xml", "AC-900.4")


# -- units -----------------------------------------------------------------------------------------


def test_seconds_are_shown_in_milliseconds_and_sizes_in_binary_units() -> None:
    assert display_unit("s") == (1000.0, "ms")
    assert display_unit("ms") == (1.0, "ms")
    assert display_unit("MB", 0.003125) == (1024.0, "KiB")  # 0.003 MB is 3.2 KiB, not "0.003125 MB"
    assert display_unit("MB", 12.7) == (1.0, "MiB")
    assert display_unit("MB/round", 0.003125) == (1024.0, "KiB/round")
    assert display_unit("KiB/connection", 0.01) == (1.0, "KiB/connection")
    assert display_unit("chunks") == (1.0, "chunks") and display_unit("%") == (1.0, "%")


def test_numbers_read_short_with_their_unit_and_sign() -> None:
    assert show(1.8962, "ms") == "1.896 ms"
    assert show(float("nan"), "ms") == "n/a"
    assert signed(96.8, "ms") == "+96.8 ms" and signed(-2.0, "KiB") == "-2 KiB" and signed(0.0, "") == "0"


# -- aggregation -----------------------------------------------------------------------------------


def test_repeated_figures_become_one_row_with_min_median_max(baseline: Path) -> None:
    signoff = load(baseline)
    latency = next(c for c in signoff.criteria if c.id == "AC-900.1")
    [row] = criterion_rows(latency)
    assert row.name == "latency" and row.count == 2 and row.spread == (50.0, 50.0, 50.0)
    assert row.verdict == "PASS" and row.margin == 50.0


def test_one_failing_figure_fails_the_row_and_its_margin_is_the_worst() -> None:
    row = Row("AC-1.1", "latency", "ms", "<", 100.0, 0.0, values=[20.0, 140.0, 50.0],
              margins=[80.0, -40.0, 50.0], verdicts=["PASS", "FAIL", "PASS"])
    assert row.verdict == "FAIL" and row.margin == -40.0 and row.worst == 140.0 and row.spread == (20.0, 50.0, 140.0)


def test_only_a_one_word_prefix_is_taken_for_a_user() -> None:
    assert generic_name("parallel-ae64c078: history entries") == "history entries"
    assert generic_name("delay before attempt 2: later than planned") == "delay before attempt 2: later than planned"


def test_page_rows_convert_every_number_of_a_row(baseline: Path) -> None:
    termination = next(c for c in load(baseline).criteria if c.id == "AC-900.3")
    [row] = page_rows(termination)
    assert (row.unit, row.values, row.threshold) == ("ms", [900.0], 1000.0)
    assert row.margin == pytest.approx(100.0)


# -- baseline comparison ---------------------------------------------------------------------------


def test_trend_names_improved_drifted_and_crossed_figures(baseline: Path, later: Path) -> None:
    comparison = load_baseline(baseline, load(later))
    statuses = {key[0]: trend.status for key, trend in comparison.trends.items()}
    assert statuses == {"AC-900.1": IMPROVED, "AC-900.2": DRIFTED, "AC-900.3": CROSSED}
    assert comparison.trends[("AC-900.2", "memory kept", "<=")].used == pytest.approx(50 / 90)
    assert comparison.criteria_gone == ["AC-900.4"] and comparison.criteria_new == []
    assert [r.name for r in comparison.gone["AC-900.4"]] == ["checks"]
    assert sorted(key[0] for key, _ in comparison.flagged) == ["AC-900.2", "AC-900.3"]


def test_small_moves_are_steady_and_new_rows_are_new() -> None:
    def row(value: float) -> Row:
        return Row("AC-1.1", "x", "ms", "<", 100.0, 0.0, [value], [100.0 - value], ["PASS"])

    assert judge_trend(row(55.0), row(50.0)).status == STEADY  # 10% of the margin used
    assert judge_trend(row(70.0), row(50.0)).status == DRIFTED  # 40% used
    assert judge_trend(row(70.0), row(50.0), drift=0.5).status == STEADY


def test_page_shows_the_change_and_flags_the_drift(baseline: Path, later: Path, tmp_path: Path) -> None:
    page = write_signoff(later, baseline=baseline)
    root = parse_page(page)
    box = next(d for d in root.iter("div") if d.get("id") == "baseline")
    assert box.get("data-flagged") == "2"
    text = " ".join("".join(root.itertext()).split())
    assert "AC-900.4: ran in the baseline, not in this run" in text
    assert "-30 ms (was 50 ms) improved" in text
    assert "+50 KiB (was 10 KiB) drifted, 56% of the margin used" in text
    assert "+300 ms (was 900 ms) crossed" in text
    assert "In the baseline but not in this run: checks." in text
    trends = [td for td in root.iter("td") if "trend" in (td.get("class") or "")]
    assert len(trends) == 3 and not any(NEW in "".join(td.itertext()) for td in trends)


def test_cli_compares_with_a_json_baseline(tmp_path: Path, later: Path) -> None:
    json_baseline = run_robot(tmp_path, BASELINE, "output.json")
    done = subprocess.run([sys.executable, "-m", "wsresilience.signoff", str(later), "--baseline", str(json_baseline)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "2 figure(s) drifted or crossed" in done.stdout
    assert "AC-900.2 memory kept (drifted)" in done.stdout and "AC-900.3 termination (crossed)" in done.stdout


def test_cli_compares_pabot_outputs(tmp_path: Path, baseline: Path) -> None:
    merged = run_pabot(tmp_path / "pabot", LATER)
    done = subprocess.run([sys.executable, "-m", "wsresilience.signoff", str(merged), "--baseline", str(baseline)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "AC-900.3 termination (crossed)" in done.stdout
    comparison = load_baseline(baseline, load(merged))
    assert comparison.trend(next(r for c in load(merged).criteria if c.id == "AC-900.1"
                                 for r in criterion_rows(c))).status == IMPROVED


def test_cli_refuses_a_missing_baseline(later: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "wsresilience.signoff", str(later), "--baseline",
                           str(tmp_path / "nope.xml")], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "baseline output file not found" in done.stderr
