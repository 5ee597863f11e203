"""Helpers for the WS-RESILIENCE-001 suite-level tests: run the suite, read verdicts, find tokens.

Robot's log.html and report.html keep their texts in a JavaScript model where longer strings
are zlib-compressed and base64-encoded, so a plain grep can miss a token in them:
:func:`output_texts` decodes every string before searching.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import subprocess
import sys
import zlib
from collections import defaultdict
from pathlib import Path

from robot.api import ExecutionResult

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "suites" / "ws_resilience_001_context.robot"

#: A JWT (base64url JSON header starting ``{"``) and our malformed test tokens.
TOKEN_PATTERNS = (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"), re.compile(r"not-a-jwt-[A-Za-z0-9_-]+"))

_JS_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def run_suite(outdir: Path, defect: str = "", *extra: str, pabot: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the 001 suite (robot, or pabot --testlevelsplit) into ``outdir``."""
    outdir.mkdir(parents=True, exist_ok=True)
    variables = ["--variable", f"SERVER_DEFECT:{defect}"] if defect else []
    if pabot:
        command = [sys.executable, "-m", "pabot.pabot", "--testlevelsplit", "--processes", "4"]
    else:
        command = [sys.executable, "-m", "robot", "--console", "none"]
    command += ["--outputdir", str(outdir), *variables, *extra, str(SUITE)]
    # pabot writes .pabotsuitenames in the working directory: give each run its own.
    return subprocess.run(command, cwd=outdir, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def verdicts(outdir: Path) -> dict[str, set[str]]:
    """{criterion tag: set of statuses} of the tests in ``outdir/output.xml``."""
    result = ExecutionResult(str(outdir / "output.xml"))
    found: dict[str, set[str]] = defaultdict(set)

    def walk(suite: object) -> None:
        for test in suite.tests:  # type: ignore[attr-defined]
            for tag in test.tags:
                if tag.startswith("AC-"):
                    found[tag].add(test.status)
        for child in suite.suites:  # type: ignore[attr-defined]
            walk(child)

    walk(result.suite)
    return dict(found)


def outcomes(outdir: Path) -> dict[str, tuple[str, str]]:
    """{test name: (status, message)}, for readable assertion failures."""
    result = ExecutionResult(str(outdir / "output.xml"))
    out: dict[str, tuple[str, str]] = {}

    def walk(suite: object) -> None:
        for test in suite.tests:  # type: ignore[attr-defined]
            out[test.name] = (test.status, test.message)
        for child in suite.suites:  # type: ignore[attr-defined]
            walk(child)

    walk(result.suite)
    return out


def output_texts(path: Path) -> list[str]:
    """The file's text plus every string of its embedded JS model, decompressed."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    texts = [raw]
    if path.suffix != ".html":
        return texts
    for match in _JS_STRING.finditer(raw):
        try:
            value = json.loads(f'"{match.group(1)}"')
        except ValueError:
            continue
        if value.startswith("*"):
            texts.append(value[1:])
            continue
        try:
            texts.append(zlib.decompress(base64.b64decode(value, validate=True)).decode("utf-8", "replace"))
        except (binascii.Error, zlib.error, ValueError):
            continue
    return texts


def token_findings(outdir: Path, known: list[str] | None = None) -> list[str]:
    """Where a token (known exactly, or by its shape) appears in log/report/output."""
    findings = []
    for name in ("log.html", "report.html", "output.xml"):
        for text in output_texts(outdir / name):
            for token in known or []:
                if token in text:
                    findings.append(f"{name}: a known token")
            for pattern in TOKEN_PATTERNS:
                match = pattern.search(text)
                if match:
                    findings.append(f"{name}: {match.group(0)[:16]}…")
    return findings
