"""Tokens never reach log.html, report.html or output.xml (AC-001.5), and the search can find them."""

from __future__ import annotations

from pathlib import Path

import pytest
from context_runs import ROOT, run_suite, token_findings, verdicts

LEAKY_SUITE = """\
*** Settings ***
Library    keywords.ReferenceServer    AS    ReferenceServer

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
                   cwd=ROOT, check=True, capture_output=True)
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
