"""AC-007.6 as a real robot run: a half-open (blackholed) connection must be ended by the
server in time. PASS on the healthy reference server; FAIL when it never pings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from robot.api import ExecutionResult

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "suites" / "ws_resilience_007_heartbeat.robot"


def run_007_6(outdir: Path, *variables: str) -> tuple[int, list[tuple[str, str, str]], str]:
    """Run only the AC-007.6 test; return the exit code, (test, status, message) and output.xml text."""
    cmd = [sys.executable, "-m", "robot", "--console", "none", "--outputdir", str(outdir),
           "--include", "AC-007.6"]
    for variable in variables:
        cmd += ["--variable", variable]
    proc = subprocess.run([*cmd, str(SUITE)], cwd=outdir, capture_output=True, text=True, timeout=300)
    output = outdir / "output.xml"
    assert output.exists(), f"no output.xml:\n{proc.stdout}\n{proc.stderr}"
    result = ExecutionResult(str(output))
    tests = [(t.name, t.status, t.message) for t in result.suite.all_tests]
    tagged = [t for t in result.suite.all_tests if "AC-007.6" in {tag.upper() for tag in t.tags}]
    assert len(tagged) == len(tests) == 1, f"expected exactly one test tagged AC-007.6, got {tests}"
    return proc.returncode, tests, output.read_text()


def test_half_open_connection_passes_on_the_healthy_server(tmp_path: Path) -> None:
    code, tests, xml = run_007_6(tmp_path)
    assert [status for _, status, _ in tests] == ["PASS"], tests
    assert code == 0
    assert "server ended the faulted connection after" in xml and "AC-007.6" in xml  # the figure


def test_half_open_connection_fails_when_the_server_never_pings(tmp_path: Path) -> None:
    code, tests, _xml = run_007_6(tmp_path, "SERVER_DEFECT:no-keepalive")
    (_name, status, message), = tests
    assert status == "FAIL" and code == 1
    assert "got no close frame, FIN or RST" in message and "\n" not in message
