"""Tokens never reach log.html, report.html or output.xml (AC-001.5), and the search can find them."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import REPO
from support.context_runs import run_suite, token_findings, verdicts

LEAKY_SUITE = """\
*** Settings ***
Library    wsresilience.ReferenceServer    AS    ReferenceServer

*** Test Cases ***
Leak A Token On Purpose
    ${user}    ReferenceServer.Create Test User    leaky
    Log    ${{ 'a long message that Robot compresses in log.html: ' * 20 + $user.token }}
"""


def test_the_search_finds_a_token_that_was_logged(tmp_path: Path) -> None:
    """Positive control: a suite that logs a token (in a long, compressed message) is caught."""
    import subprocess
    import sys

    suite = tmp_path / "leaky.robot"
    suite.write_text(LEAKY_SUITE)
    subprocess.run([sys.executable, "-m", "robot", "--console", "none", "--outputdir", str(tmp_path), str(suite)],
                   cwd=REPO, check=True, capture_output=True)
    findings = token_findings(tmp_path)
    assert any(f.startswith("log.html") for f in findings), findings
    assert any(f.startswith("output.xml") for f in findings), findings


@pytest.mark.parametrize("defect", ["", "accept-expired-token", "ignore-session-owner"])
def test_no_token_in_the_run_outputs(tmp_path: Path, defect: str) -> None:
    """The 001 suite handles valid, expired, forged and malformed tokens; none reaches its outputs,
    not even when the server misbehaves and the failure messages describe what it accepted."""
    run_suite(tmp_path, defect)
    assert verdicts(tmp_path), "the suite produced no results"
    assert token_findings(tmp_path) == []


IN_SUITE_CHECK = """\
*** Settings ***
Library    wsresilience.ReferenceServer    AS    ReferenceServer
Library    wsresilience.ContextReconnect    AS    ContextReconnect

*** Test Cases ***
A Clean Log Passes
    ${user}    ReferenceServer.Create Test User    quiet
    ContextReconnect.Tokens Should Not Appear In The Log

A Logged Token Is Caught
    ${user}    ReferenceServer.Create Test User    leaky
    Log    token: ${{ $user.token }}
    ContextReconnect.Tokens Should Not Appear In The Log
"""


def test_the_in_suite_check_catches_a_logged_token(tmp_path: Path) -> None:
    """Positive control for the suite's own check (`Tokens Should Not Appear In The Log`)."""
    import subprocess
    import sys

    from support.context_runs import outcomes

    suite = tmp_path / "in_suite.robot"
    suite.write_text(IN_SUITE_CHECK)
    subprocess.run([sys.executable, "-m", "robot", "--console", "none", "--outputdir", str(tmp_path), str(suite)],
                   cwd=REPO, capture_output=True)
    found = outcomes(tmp_path)
    assert found["A Clean Log Passes"][0] == "PASS"
    status, message = found["A Logged Token Is Caught"]
    assert status == "FAIL" and "Expected no token in the log" in message
