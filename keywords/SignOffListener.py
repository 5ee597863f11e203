"""A Robot Framework listener that writes the sign-off page when the run ends.

``robot --listener wsresilience.SignOffListener --outputdir results suites`` leaves
``results/signoff.html`` (and ``results/signoff-junit.xml``) beside ``output.xml``, whatever
the verdict, without changing Robot's exit code. For pabot, run
``python -m wsresilience.signoff results/output.xml`` on the merged output instead.
"""

from __future__ import annotations

import sys
from pathlib import Path


class SignOffListener:
    """Writes ``signoff.html`` and a JUnit XML beside the run's ``output.xml``."""

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, xunit: str = "signoff-junit.xml") -> None:
        self._xunit = xunit
        self._output: Path | None = None
        self._log = "log.html"

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
