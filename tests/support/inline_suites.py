"""Run a Robot suite written in a test, in this process, and read its result back.

In-process on purpose: what the library leaves behind (threads, sockets, child processes)
is then left in *this* process, where the test can look for it.
"""

from __future__ import annotations

from pathlib import Path

import robot
from robot.api import ExecutionResult
from robot.result import Result


def run_inline(directory: Path, text: str, variables: dict[str, object] | None = None,
               name: str = "inline") -> tuple[int, Result]:
    """Write ``text`` to ``directory/<name>.robot``, run it with ``robot.run``; return (rc, result)."""
    directory.mkdir(parents=True, exist_ok=True)
    suite = directory / f"{name}.robot"
    suite.write_text(text)
    rc = robot.run(str(suite), outputdir=str(directory), variable=[f"{k}:{v}" for k, v in (variables or {}).items()],
                   console="none", log=None, report=None)
    return rc, ExecutionResult(str(directory / "output.xml"))


def outcomes(result: Result) -> dict[str, tuple[str, str]]:
    """{test name: (status, message)} of a run, for readable assertion failures."""
    return {test.name: (test.status, test.message) for test in result.suite.all_tests}


def warnings(result: Result) -> list[str]:
    """The texts of the run's WARN messages (Robot lists them in output.xml's errors)."""
    return [m.message for m in result.errors.messages if m.level == "WARN"]


def errors(result: Result) -> list[str]:
    """The texts of the run's ERROR messages (failed imports, keyword conflicts, …)."""
    return [m.message for m in result.errors.messages if m.level == "ERROR"]
