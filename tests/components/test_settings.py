"""The keywords suites derive values with, instead of inline Python: time and count arithmetic,
the masked target URL and the library version.

Called as DynamicCore runs them (by method name, with arguments of the types Robot converts
to), then once through Robot itself, so time strings and numbers convert as the suites pass them.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from robot.api import ExecutionResult
from robot.utils import timestr_to_secs

import wsresilience
from wsresilience.WebSocketResilience import WebSocketResilience

DERIVING = ("add_times", "multiply_time", "add_counts", "divide_count", "get_masked_url",
            "get_library_version")


@pytest.fixture
def lib() -> Iterator[WebSocketResilience]:
    library = WebSocketResilience()
    yield library
    library.ctx.close()


def ms(value: float) -> timedelta:
    return timedelta(milliseconds=value)


def test_every_deriving_keyword_is_documented_and_tagged_settings(lib: WebSocketResilience) -> None:
    names = set(lib.get_keyword_names())
    for name in DERIVING:
        assert name in names
        assert "Settings" in lib.get_keyword_tags(name)
        assert lib.get_keyword_documentation(name).strip()


def test_add_times_sums_in_seconds_as_the_suites_did(lib: WebSocketResilience) -> None:
    bound = lib.run_keyword("add_times", [ms(500), ms(500), ms(250)], {})
    assert bound == 1.25
    # The same figure the suites computed with robot.utils.timestr_to_secs.
    assert bound == sum(timestr_to_secs(t) for t in ("500 ms", "500 ms", "250 ms"))
    assert lib.run_keyword("add_times", [timedelta(seconds=4), timedelta(seconds=1)], {}) == 5.0
    assert lib.run_keyword("add_times", [ms(10)], {}) == 0.01


def test_add_times_needs_something_to_add(lib: WebSocketResilience) -> None:
    with pytest.raises(ValueError, match="at least one time"):
        lib.run_keyword("add_times", [], {})


def test_multiply_time_scales_in_seconds(lib: WebSocketResilience) -> None:
    assert lib.run_keyword("multiply_time", [timedelta(seconds=4), 0.5], {}) == 2.0
    assert lib.run_keyword("multiply_time", [ms(500), 0.5], {}) == 0.25
    assert lib.run_keyword("multiply_time", [ms(500), 6], {}) == 3.0
    assert lib.run_keyword("multiply_time", [ms(500), 0], {}) == 0.0


def test_counts_add_and_divide_as_whole_numbers(lib: WebSocketResilience) -> None:
    assert lib.run_keyword("add_counts", [5, 1], {}) == 6
    assert lib.run_keyword("add_counts", [0, 1, 2], {}) == 3
    assert lib.run_keyword("divide_count", [10, 2], {}) == 5
    assert lib.run_keyword("divide_count", [11, 2], {}) == 5
    assert lib.run_keyword("divide_count", [1, 2], {}) == 0
    with pytest.raises(ValueError, match="parts > 0"):
        lib.run_keyword("divide_count", [10, 0], {})
    with pytest.raises(ValueError, match="at least one count"):
        lib.run_keyword("add_counts", [], {})


def test_masked_url_hides_passwords_and_secret_query_values(lib: WebSocketResilience) -> None:
    shown = lib.run_keyword("get_masked_url", ["wss://user:hunter2@example.org/ws?token=abc&room=7"], {})
    assert shown == "wss://user:***@example.org/ws?token=***&room=7"
    assert lib.run_keyword("get_masked_url", ["ws://127.0.0.1:8765/"], {}) == "ws://127.0.0.1:8765/"


def test_library_version_is_the_package_version(lib: WebSocketResilience) -> None:
    assert lib.run_keyword("get_library_version", [], {}) == wsresilience.__version__


SUITE = """\
*** Settings ***
Library    wsresilience.WebSocketResilience

*** Variables ***
${INTERVAL}    500 ms
${TTL}         4 s
${COUNT}       10

*** Test Cases ***
Times And Counts Convert As The Suites Pass Them
    ${bound}    Add Times    ${INTERVAL}    500 ms    250 ms
    Should Be Equal As Numbers    ${bound}    1.25
    ${half}    Multiply Time    ${TTL}    0.5
    Should Be Equal As Numbers    ${half}    2
    ${wait}    Add Times    ${half}    1 s
    Should Be Equal As Numbers    ${wait}    3
    ${more}    Add Counts    ${COUNT}    1
    Should Be Equal    ${more}    ${11}
    ${half_count}    Divide Count    ${COUNT}    2
    Should Be Equal    ${half_count}    ${5}
    ${shown}    Get Masked Url    ws://a:secret@host:1/?key=k
    Should Be Equal    ${shown}    ws://a:***@host:1/?key=***
    ${version}    Get Library Version
    Should Not Be Empty    ${version}
"""


def test_the_keywords_run_in_robot_with_its_argument_conversion(tmp_path: Path) -> None:
    suite = tmp_path / "derived.robot"
    suite.write_text(SUITE)
    proc = subprocess.run([sys.executable, "-m", "robot", "--console", "none", "--outputdir", str(tmp_path),
                           str(suite)], capture_output=True, text=True, timeout=120)
    result = ExecutionResult(str(tmp_path / "output.xml"))
    tests = list(result.suite.all_tests)
    assert [t.status for t in tests] == ["PASS"], (tests[0].message if tests else "", proc.stdout, proc.stderr)
