"""The code and the suites stay clean: ruff on the Python, robocop on the Robot files."""

from __future__ import annotations

import subprocess
import sys

from support import REPO


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_ruff_finds_nothing() -> None:
    result = run(sys.executable, "-m", "ruff", "check", "keywords", "refserver", "faultproxy", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_robocop_lint_is_clean() -> None:
    result = run(sys.executable, "-m", "robocop", "check", "suites", "resources")
    assert result.returncode == 0 and "No issues found" in result.stdout, result.stdout + result.stderr


def test_robocop_format_is_clean() -> None:
    result = run(sys.executable, "-m", "robocop", "format", "--check", "suites", "resources")
    assert result.returncode == 0, result.stdout + result.stderr
