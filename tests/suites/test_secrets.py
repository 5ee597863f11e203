"""No secret of ``WS_URL`` reaches any artefact of a run, at any log level (issue 11, item 2).

The suites run against a reference server through a ``WS_URL`` that carries a password in
its userinfo and a token in its query, at ``--loglevel TRACE`` (Robot then logs every
keyword's arguments and return value), with the sign-off listener, Robot's xUnit and debug
files, and the console captured. Then every artefact is searched, with log.html's and
report.html's compressed strings decoded (``support.artefacts``), for the token, the password
and the Basic authorization the client derives from the userinfo.

Two positive controls keep the search honest: the same run plants a marker that *is*
logged (a long, compressed log message, the console, a test message) and the search must find
it in every artefact; and a control run that logs ``${WS_URL}`` itself must be caught.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from robot.api import ExecutionResult
from robot.result import TestSuite as ResultSuite

from wsresilience.core.servers.process import ServerProcess

from support import SUITES
from support.artefacts import ARTEFACTS, artefact_texts, every_file, findings
from support.suite_runner import read

#: Unique per run, so nothing but this run can put them into an artefact.
TOKEN = f"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJxYSJ9.{secrets.token_urlsafe(24)}"
PASSWORD = f"S3cretPassw0rd{secrets.token_hex(6)}"
METRICS_KEY = f"metrics-key-{secrets.token_urlsafe(12)}"
SECRETS = {
    "token": TOKEN,
    "password": PASSWORD,
    "metrics key": METRICS_KEY,
    # websockets turns the URL's userinfo into this header; it must not be logged either.
    "basic authorization": base64.b64encode(f"qa:{PASSWORD}".encode()).decode(),
}
MARKER = f"planted-marker-{secrets.token_hex(8)}"

#: Quick tests that open connections, stream, flap, read metrics and create proxies in front of
#: the target (AC-007.1, 007.6, 002.1, 002.5, 006.6), and the controls, by name.
TESTS = ["Responsive Client Stays Connected And Answers Every Ping",
         "Half-Open Connection Is Terminated By The Server In Time",
         "Text Stream Resumes After A Cut Without Gap Or Duplicate",
         "Reconnecting Backs Off Exponentially And Gives Up Clearly",
         "Network Resets During Flapping Leak Nothing",
         "A Marker That Is Logged", "A Failure That Names The Marker *", "The URL Logged As It Was Given"]

#: Two tests the search must see into every artefact: the JUnit files name tests and carry
#: failure messages only, so the second one fails with the marker (and names it).
CONTROL = f"""\
*** Test Cases ***
A Marker That Is Logged
    Log    ${{{{ 'Robot compresses a long, repetitive message in log.html. ' * 30 }}}}${{MARKER}}
    Log To Console    ${{MARKER}}
    Set Test Message    ${{MARKER}}

A Failure That Names The Marker {MARKER}
    Fail    Expected to fail with ${{MARKER}}
"""

BYPASS = """\
*** Test Cases ***
The URL Logged As It Was Given
    Log    ${{ 'Robot compresses a long, repetitive message in log.html. ' * 30 }}${WS_URL}
    Set Test Message    ${WS_URL}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """The reference server with the keepalive settings of resources/thresholds.resource."""
    proc = ServerProcess(["--port", "0", "--ping-interval", "0.5", "--ping-timeout", "0.5",
                          "--close-timeout", "0.5"])
    proc.start(15)
    yield proc
    proc.stop()


def secret_url(server: ServerProcess) -> str:
    """The server's URL with a password in its userinfo and a token in its query."""
    return f"ws://qa:{PASSWORD}@127.0.0.1:{server.port}/?token={TOKEN}"


def metrics_url(server: ServerProcess) -> str:
    """The server's metrics endpoint with a key in its query (the reference server ignores it)."""
    return f"{server.http_url.rstrip('/')}/metrics?api_key={METRICS_KEY}"


def targets(outdir: Path) -> set[str]:
    """The Target metadata of every suite in the run: which service it tested, masked."""
    found: set[str] = set()

    def visit(suite: ResultSuite) -> None:
        if suite.tests:
            found.add(suite.metadata.get("Target", ""))
        for child in suite.suites:
            visit(child)

    visit(ExecutionResult(str(outdir / "output.xml")).suite)
    return found


def run_robot(outdir: Path, url: str, server: ServerProcess, *paths: Path) -> tuple[int, str]:
    """Run ``paths`` at TRACE with every artefact a run can write; return (rc, console)."""
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "robot", "--loglevel", "TRACE", "--console", "verbose",
           "--listener", "wsresilience.SignOffListener", "--xunit", "xunit.xml",
           "--debugfile", "debug.txt", "--outputdir", str(outdir),
           "--variable", f"WS_URL:{url}", "--variable", f"METRICS_URL:{metrics_url(server)}",
           "--variable", f"SERVER_PID:{server.pid}", "--variable", f"MARKER:{MARKER}"]
    for name in TESTS:
        cmd += ["--test", name]
    proc = subprocess.run([*cmd, *map(str, paths)], cwd=outdir, capture_output=True, text=True, timeout=300)
    assert (outdir / "output.xml").is_file(), proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.returncode, proc.stdout + proc.stderr


def test_the_search_finds_the_secrets_when_the_url_is_logged_as_given(
        tmp_path: Path, server: ServerProcess) -> None:
    """Positive control: a suite that logs ``${WS_URL}`` itself leaks it, and the search says where,
    even where log.html holds it only compressed."""
    suite = tmp_path / "bypass.robot"
    suite.write_text(BYPASS)
    run_robot(tmp_path / "out", secret_url(server), server, suite)
    found = findings(tmp_path / "out", SECRETS)
    for artefact in ("output.xml", "log.html", "report.html", "signoff.html", "debug.txt"):
        assert f"{artefact}: token" in " ".join(found), found
        assert f"{artefact}: password" in " ".join(found), found
    # A plain grep would have missed them: log.html and report.html hold them only compressed.
    for page in ("log.html", "report.html"):
        path = tmp_path / "out" / page
        assert TOKEN not in path.read_text(), f"expected the token only in compressed strings of {page}"
        assert any(TOKEN in text for text in artefact_texts(path)), page


def test_no_secret_of_ws_url_in_any_artefact(tmp_path: Path, server: ServerProcess) -> None:
    """The suites pass against the secret-bearing URL, the planted marker is found in every
    artefact, and the token, password and Basic authorization are found in none."""
    control = tmp_path / "control.robot"
    control.write_text(CONTROL)
    outdir = tmp_path / "out"
    # 006 first: its leak check takes a baseline of the shared server, which must not hold
    # connections the other suites are still closing.
    rc, console = run_robot(outdir, secret_url(server), server,
                            SUITES / "ws_resilience_006_flapping.robot",
                            SUITES / "ws_resilience_007_heartbeat.robot",
                            SUITES / "ws_resilience_002_stream_resume.robot", control)
    run = read(outdir, rc)
    assert set(run.by_criterion) == {"AC-007.1", "AC-007.6", "AC-002.1", "AC-002.5", "AC-006.6"}, run.by_test
    assert all(statuses == {"PASS"} for statuses in run.by_criterion.values()), run.messages
    assert run.by_test[f"A Failure That Names The Marker {MARKER}"] == "FAIL"

    assert sorted(p.name for p in outdir.iterdir() if p.name in ARTEFACTS) == sorted(ARTEFACTS)
    marked = findings(outdir, {"marker": MARKER}, console)
    assert sorted(f.split(":")[0] for f in marked) == sorted(["console", *ARTEFACTS]), marked

    assert findings(outdir, SECRETS, console) == []


def test_no_secret_in_the_failures_of_a_broken_service(tmp_path: Path) -> None:
    """Failing tests word what they saw and where, into output.xml, the sign-off page and the
    JUnit file: against a server without keepalive (``no-keepalive``) 007.1 and 007.6 FAIL,
    and their messages name the target masked."""
    broken = ServerProcess(["--port", "0", "--ping-interval", "0.5", "--ping-timeout", "0.5",
                            "--close-timeout", "0.5", "--defect", "no-keepalive"])
    broken.start(15)
    try:
        rc, console = run_robot(tmp_path, secret_url(broken), broken,
                                SUITES / "ws_resilience_007_heartbeat.robot")
    finally:
        broken.stop()
    run = read(tmp_path, rc)
    assert run.by_criterion == {"AC-007.1": {"FAIL"}, "AC-007.6": {"FAIL"}}, run.messages
    # The failures do name the target, so a secret they carried would be in these files.
    masked = f"(ws://qa:***@127.0.0.1:{broken.port}/?token=***)."
    for artefact in ("signoff-junit.xml", "xunit.xml", "output.xml"):
        assert masked in (tmp_path / artefact).read_text(), artefact
    assert findings(tmp_path, SECRETS, console) == []


@pytest.mark.parametrize("passed_as", ["--variable", "environment"])
def test_under_pabot_only_the_environment_keeps_the_secret_off_disk(
        tmp_path: Path, server: ServerProcess, passed_as: str) -> None:
    """pabot writes each process's options, ``--variable WS_URL:…`` included, to
    ``pabot_results/<n>/robot_argfile.txt`` in the output folder, so a secret given on the
    command line lands on disk whatever the library does (the control). Given as the
    environment variable ``WS_URL``, which resources/thresholds.resource reads, it lands nowhere:
    every file the run leaves is searched."""
    outdir = tmp_path / "out"
    outdir.mkdir()
    url = secret_url(server)
    cmd = [sys.executable, "-m", "pabot.pabot", "--no-pabotlib", "--testlevelsplit", "--processes", "2",
           "--loglevel", "TRACE", "--outputdir", str(outdir), "--include", "AC-007.6", "--include", "AC-002.1"]
    env = {**os.environ}
    if passed_as == "--variable":
        cmd += ["--variable", f"WS_URL:{url}"]
    else:
        env["WS_URL"] = url
    proc = subprocess.run([*cmd, str(SUITES / "ws_resilience_007_heartbeat.robot"),
                           str(SUITES / "ws_resilience_002_stream_resume.robot")],
                          cwd=outdir, env=env, capture_output=True, text=True, timeout=300)
    run = read(outdir, proc.returncode)
    assert run.by_criterion == {"AC-007.6": {"PASS"}, "AC-002.1": {"PASS"}}, run.messages
    assert targets(outdir) == {f"ws://qa:***@127.0.0.1:{server.port}/?token=*** (external service)"}
    found = findings(outdir, SECRETS, proc.stdout + proc.stderr, files=every_file(outdir))
    if passed_as == "--variable":
        assert [f for f in found if f.endswith("robot_argfile.txt: token ×1")], found
        assert all("robot_argfile.txt" in f for f in found), found
    else:
        assert found == []
