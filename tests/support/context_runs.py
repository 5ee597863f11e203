"""Helpers for the WS-RESILIENCE-001 suite-level tests: run the suite, read verdicts, find tokens.

Robot's log.html and report.html keep their texts in a JavaScript model where longer strings
are zlib-compressed and base64-encoded, so a plain grep can miss a token in them: the search
decodes every string first (:func:`support.artefacts.artefact_texts`).
"""

from __future__ import annotations

import re
from pathlib import Path

from support import SUITES, suite_runner
from support.artefacts import artefact_texts
from support.suite_runner import RunResult

SUITE = SUITES / "ws_resilience_001_context.robot"

#: A JWT (base64url JSON header starting ``{"``) and our malformed test tokens.
TOKEN_PATTERNS = (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"), re.compile(r"not-a-jwt-[A-Za-z0-9_-]+"))


def run_suite(outdir: Path, defect: str = "", *extra: str, pabot: bool = False) -> RunResult:
    """Run the 001 suite (robot, or pabot --testlevelsplit) into ``outdir``."""
    variables = ["--variable", f"SERVER_DEFECT:{defect}"] if defect else []
    return suite_runner.run(SUITE.name, outdir, [*variables, *extra], pabot=pabot, processes=4)


def verdicts(outdir: Path) -> dict[str, set[str]]:
    """{criterion tag: set of statuses} of the tests in ``outdir/output.xml``."""
    return suite_runner.read(outdir).by_criterion


def outcomes(outdir: Path) -> dict[str, tuple[str, str]]:
    """{test name: (status, message)}, for readable assertion failures."""
    return suite_runner.read(outdir).outcomes()


def token_findings(outdir: Path, known: list[str] | None = None) -> list[str]:
    """Where a token (known exactly, or by its shape) appears in log/report/output."""
    findings = []
    for name in ("log.html", "report.html", "output.xml"):
        for text in artefact_texts(outdir / name):
            for token in known or []:
                if token in text:
                    findings.append(f"{name}: a known token")
            for pattern in TOKEN_PATTERNS:
                match = pattern.search(text)
                if match:
                    findings.append(f"{name}: {match.group(0)[:16]}…")
    return findings
