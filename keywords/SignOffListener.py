"""A Robot Framework listener that writes the sign-off page when the run ends.

``robot --listener wsresilience.SignOffListener --outputdir results suites`` leaves
``results/signoff.html`` (and ``results/signoff-junit.xml``) beside ``output.xml``, whatever
the verdict, without changing Robot's exit code. When the run starts it removes the sign-off
files an earlier run left there (as the library does when a suite that imports it starts), so
a run that ends before writing its page leaves none rather than the last run's. For pabot, run
``python -m wsresilience.signoff results/output.xml`` on the merged output instead.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


class SignOffListener:
    """Writes ``signoff.html`` and a JUnit XML beside the run's ``output.xml``."""

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, xunit: str = "signoff-junit.xml") -> None:
        self._xunit = xunit
        self._output: Path | None = None
        self._log = "log.html"
        self._started = False

    def start_suite(self, data: Any, result: Any) -> None:
        """On the run's first suite: remove the sign-off files an earlier run left."""
        if not self._started:
            self._started = True
            from wsresilience.signoff.stale import clear_for_this_run

            clear_for_this_run()

    def output_file(self, path: str) -> None:
        self._output = Path(path)

    def log_file(self, path: str) -> None:
        self._log = path

    def close(self) -> None:
        if self._output is None or not self._output.is_file():
            return
        from wsresilience.signoff import write_signoff

        page = write_signoff(self._output, log=self._log, xunit=self._xunit or None)
        print(f"Sign-off: {page}", file=sys.__stdout__)
