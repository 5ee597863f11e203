"""Run Robot suites from pytest and read the verdicts back from output.xml.

The suites are the system under test here: they must PASS on the healthy reference server
and FAIL the criteria a seeded defect breaks. Each run is a real ``robot`` (or ``pabot
--no-pabotlib --testlevelsplit``) process against a real server process, into its own output directory
(which is also its working directory, since pabot writes ``.pabotsuitenames`` there).
"""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from robot.api import ExecutionResult

from support import SUITES


@dataclass
class RunResult:
    """Verdicts of one run: per criterion tag, per test, the process exit code and its console."""

    returncode: int
    by_criterion: dict[str, set[str]]
    by_test: dict[str, str]
    messages: dict[str, str]
    outdir: Path
    #: What the run printed (stdout, then stderr); empty when read back from a file alone.
    console: str = ""

    def failed_criteria(self) -> set[str]:
        """Criteria with at least one failing test."""
        return {c for c, statuses in self.by_criterion.items() if "FAIL" in statuses}

    def statuses(self) -> set[str]:
        """Every test status seen."""
        return set(self.by_test.values())

    def outcomes(self) -> dict[str, tuple[str, str]]:
        """{test name: (status, message)}, for readable assertion failures."""
        return {name: (status, self.messages[name]) for name, status in self.by_test.items()}


def run(
    suite: str | Path,
    outdir: Path,
    options: Sequence[str] = (),
    pabot: bool = False,
    processes: int = 2,
    timeout: float = 600,
) -> RunResult:
    """Run one suite (a name in ``suites/`` or a path) with extra Robot ``options``."""
    outdir.mkdir(parents=True, exist_ok=True)
    if pabot:
        # --no-pabotlib: the suites take no PabotLib locks, and PabotLib's port (8270) may be
        # held by another pabot run on the machine.
        cmd = [sys.executable, "-m", "pabot.pabot", "--no-pabotlib", "--testlevelsplit", "--processes", str(processes)]
    else:
        cmd = [sys.executable, "-m", "robot", "--console", "none"]
    cmd += ["--outputdir", str(outdir), *options, str(SUITES / suite)]
    proc = subprocess.run(cmd, cwd=outdir, capture_output=True, text=True, timeout=timeout)
    assert (outdir / "output.xml").exists(), (
        f"no output.xml from {' '.join(cmd)}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    )
    return read(outdir, proc.returncode, proc.stdout + proc.stderr)


def read(outdir: Path, returncode: int = 0, console: str = "") -> RunResult:
    """The verdicts in ``outdir/output.xml``; criterion tags are upper-cased."""
    result = ExecutionResult(str(outdir / "output.xml"))
    by_criterion: dict[str, set[str]] = defaultdict(set)
    by_test: dict[str, str] = {}
    messages: dict[str, str] = {}
    for test in result.suite.all_tests:
        by_test[test.name] = test.status
        messages[test.name] = test.message
        for tag in test.tags:
            if tag.upper().startswith("AC-"):
                by_criterion[tag.upper()].add(test.status)
    return RunResult(returncode, dict(by_criterion), by_test, messages, outdir, console)


def run_suite(
    suite: str,
    outdir: Path,
    variables: dict[str, str] | None = None,
    include: list[str] | None = None,
    pabot: bool = False,
    processes: int = 2,
    timeout: float = 600,
) -> RunResult:
    """Run ``suites/<suite>`` with ``--variable`` and ``--include`` options."""
    options: list[str] = []
    for name, value in (variables or {}).items():
        options += ["--variable", f"{name}:{value}"]
    for tag in include or []:
        options += ["--include", tag]
    return run(suite, outdir, options, pabot, processes, timeout)
