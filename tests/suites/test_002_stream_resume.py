"""The WS-RESILIENCE-002 suite end to end: healthy passes, each seeded defect fails its criteria.

Each run starts its own reference server on an OS-chosen port (the suite does), so nothing
here shares ports or files. Besides: a strict but healthy server (``--require-epoch``) passes
002.6, and a target that is not there fails 002.5 (``WS_URL`` at a closed port).
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from wsresilience.core.servers.process import ServerProcess

from support import SUITES, suite_runner

SUITE = SUITES / "ws_resilience_002_stream_resume.robot"

#: Tests that resume a stream: a server that cannot resume (skips, corrupts, forgets) fails
#: them all, not only the criterion docs/acceptance.md lists first for the defect.
RESUMING = {"AC-002.1", "AC-002.2", "AC-002.3", "AC-002.4", "AC-002.7", "AC-002.8", "AC-002.9"}

#: defect -> (criteria docs/acceptance.md says it breaks, criteria that fail with it as a consequence)
DEFECTS: dict[str, tuple[set[str], set[str]]] = {
    # A replay that starts at the last seq again is a misplaced resume in every test that
    # resumes, though the assembler drops the repeated chunk.
    "resume-duplicates": ({"AC-002.1"}, RESUMING),
    "resume-skips": ({"AC-002.1"}, RESUMING),
    # Only the first resume skips: the multi-cut tests (002.7, 002.8, 002.9) get the chunk on
    # a later resume and assemble a whole stream, so only a check of where each resume
    # started can catch it.
    "resume-skips-once": ({"AC-002.1", "AC-002.7", "AC-002.8"}, RESUMING),
    "corrupt-on-resume": ({"AC-002.1", "AC-002.2"}, RESUMING),
    "forget-streams": ({"AC-002.1"}, RESUMING),
    "truncate-stream": ({"AC-002.7"}, set()),
}


#: defect -> {test name: a pattern its failure message must match}: the failure says where.
MESSAGES: dict[str, dict[str, str]] = {
    "resume-skips-once": {
        "Large Stream Cut Several Times Is Delivered Intact":
            r"Stream 'large' is not intact: cut 1: the resume after seq \d+ replayed from seq "
            r"\d+ \(expected \d+\)",
        "Stream Cut Every 200 ms Still Completes Intact":
            r"Stream 'flapping' is not intact: cut 1: the resume after seq \d+ replayed from "
            r"seq \d+ \(expected \d+\)",
    },
}


def run_suite(tmp_path: Path, *options: str, runner: str = "robot") -> dict[str, set[str]]:
    """Run the suite; return {criterion tag: statuses of the tests carrying it}."""
    return run_suite_result(tmp_path, *options, runner=runner).by_criterion


def run_suite_result(tmp_path: Path, *options: str, runner: str = "robot") -> suite_runner.RunResult:
    """Run the suite; return every verdict and message."""
    return suite_runner.run(SUITE.name, tmp_path / runner, options, pabot=runner != "robot",
                            processes=4, timeout=240)


def test_healthy_server_passes_every_criterion(tmp_path: Path) -> None:
    result = run_suite(tmp_path)
    assert set(result) == {f"AC-002.{i}" for i in range(1, 10)}
    # 002.9 would SKIP without the fault proxy; it ships with the project, so it must PASS.
    assert all(s == {"PASS"} for s in result.values()), result


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_seeded_defect_fails_exactly_its_criteria(tmp_path: Path, defect: str) -> None:
    breaks, collateral = DEFECTS[defect]
    run = run_suite_result(tmp_path, "--variable", f"SERVER_DEFECT:{defect}")
    result = run.by_criterion
    for name, pattern in MESSAGES.get(defect, {}).items():
        status, message = run.outcomes()[name]
        assert status == "FAIL" and re.search(pattern, message), (name, status, message)
    for tag in breaks:
        assert result[tag] == {"FAIL"}, f"{defect} should fail {tag}, got {result[tag]}"
    for tag, statuses in result.items():
        if tag not in breaks | collateral:
            assert statuses == {"PASS"}, f"{defect} should leave {tag} passing, got {statuses}"


def test_pabot_testlevelsplit_agrees_with_robot(tmp_path: Path) -> None:
    plain = run_suite(tmp_path / "robot", "--variable", "SERVER_DEFECT:corrupt-on-resume")
    split = run_suite(tmp_path / "pabot", "--variable", "SERVER_DEFECT:corrupt-on-resume",
                      runner="pabot")
    assert plain == split


def test_a_server_that_requires_the_epoch_passes_the_unknown_stream_probe(tmp_path: Path) -> None:
    """A strict but healthy server refuses a resume that names no epoch (``epoch-changed``,
    allowed by protocol section 8): the probe of an unknown stream must send the epoch the
    server announced, or 002.6 blames a healthy server."""
    server = ServerProcess(["--port", "0", "--ping-interval", "0.5", "--ping-timeout", "0.5",
                            "--require-epoch"])
    server.start(15)
    try:
        run = suite_runner.run(SUITE.name, tmp_path, ["--variable", f"WS_URL:{server.url}",
                                                      "--include", "AC-002.6"], timeout=120)
    finally:
        server.stop()
    assert run.outcomes() == {
        "Resume After The Window Or Of An Unknown Stream Is Refused Explicitly": ("PASS", "")}


def test_backoff_is_not_signed_off_for_a_service_that_is_not_there(tmp_path: Path) -> None:
    """With WS_URL at a closed port, 002.5 must FAIL: the backoff criterion is about
    reconnecting to a service that was there, so the test must first reach and stream from it."""
    with socket.socket() as held:  # bound, never listening: every connection is refused
        held.bind(("127.0.0.1", 0))
        url = f"ws://127.0.0.1:{held.getsockname()[1]}/"
        run = suite_runner.run(SUITE.name, tmp_path, ["--variable", f"WS_URL:{url}",
                                                      "--include", "AC-002.5"], timeout=120)
    ((status, message),) = run.outcomes().values()
    assert status == "FAIL", message
    # The failure names the service the proxy could not reach, not only the proxy.
    assert re.search(rf"Gave up connecting to ws://127\.0\.0\.1:\d+/ through proxy 'backoff' in front "
                     rf"of {re.escape(url)} after 5 attempts", message), message
