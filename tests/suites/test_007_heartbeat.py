"""The WS-RESILIENCE-007 suite, run for real: healthy passes, each seeded defect fails the
criteria it breaks, pabot agrees with robot, and a third-party server gets honest verdicts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from support.echo_server import EchoProcess
from support.suite_runner import RunResult, run_suite

SUITE = "ws_resilience_007_heartbeat.robot"
CRITERIA = {"AC-007.1", "AC-007.2", "AC-007.3", "AC-007.4", "AC-007.5", "AC-007.6", "AC-007.7"}

#: docs/acceptance.md section 2: which criteria each seeded defect breaks.
BREAKS = {
    # docs/acceptance.md lists 007.1 and 007.2; issue 4 adds the half-open case, 007.6.
    "no-keepalive": {"AC-007.1", "AC-007.2", "AC-007.6"},
    "slow-reaper": {"AC-007.2"},
    "reap-healthy": {"AC-007.4"},
    "leak-zombies": {"AC-007.3"},
}


#: Knock-on failures a defect may also cause, and why. Anything else failing is a bug.
CONSEQUENCES = {
    # Without pings there is nothing to answer, hold back or reap: every server-ping test fails.
    "no-keepalive": {"AC-007.3", "AC-007.4", "AC-007.5"},
    # Under load and half-open, the same termination bound applies: the slow reaper misses it.
    "slow-reaper": {"AC-007.5", "AC-007.6"},
    "reap-healthy": set(),
    "leak-zombies": set(),
}

_runs: dict[str, RunResult] = {}


def defect_run(defect: str, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """Run the suite once per defect, shared by the tests that look at it."""
    if defect not in _runs:
        _runs[defect] = run_suite(SUITE, tmp_path_factory.mktemp(defect),
                                  {"SERVER_DEFECT": defect}, include=sorted(CRITERIA))
    return _runs[defect]


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return run_suite(SUITE, tmp_path_factory.mktemp("healthy"), include=sorted(CRITERIA))


def test_healthy_server_passes_every_criterion(healthy: RunResult) -> None:
    assert healthy.returncode == 0, healthy.messages
    assert CRITERIA <= set(healthy.by_criterion)
    assert all(statuses == {"PASS"} for c, statuses in healthy.by_criterion.items() if c in CRITERIA), (
        healthy.by_criterion, healthy.messages)


@pytest.mark.parametrize("defect", sorted(BREAKS))
def test_each_seeded_defect_fails_the_criteria_it_breaks(
    defect: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    result = defect_run(defect, tmp_path_factory)
    assert result.returncode != 0
    for criterion in BREAKS[defect]:
        assert "FAIL" in result.by_criterion[criterion], (defect, criterion, result.messages)
    # The failures say what was expected and what was seen, in one line.
    for name, status in result.by_test.items():
        if status == "FAIL":
            assert "\n" not in result.messages[name].strip(), result.messages[name]


@pytest.mark.parametrize("defect", sorted(BREAKS))
def test_each_seeded_defect_leaves_the_other_criteria_passing(
    defect: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    result = defect_run(defect, tmp_path_factory)
    assert result.failed_criteria() <= BREAKS[defect] | CONSEQUENCES[defect], result.messages


def test_pabot_testlevelsplit_agrees_with_robot(healthy: RunResult, tmp_path: Path) -> None:
    pabot = run_suite(SUITE, tmp_path, include=sorted(CRITERIA), pabot=True, processes=3)
    assert pabot.by_test == healthy.by_test, pabot.messages


def test_unknown_defect_fails_the_suite_setup_with_the_known_names(tmp_path: Path) -> None:
    result = run_suite(SUITE, tmp_path, {"SERVER_DEFECT": "no-such-defect"}, include=["AC-007.1"])
    assert result.statuses() == {"FAIL"}
    message = next(iter(result.messages.values()))
    assert "no-such-defect" in message and "slow-reaper" in message


#: The third-party echo server's keepalive besides its ping interval.
KEEPALIVE = ("--ping-timeout", "0.5", "--close-timeout", "0.5")


@pytest.fixture
def echo_server(request: pytest.FixtureRequest, echo_process: Callable[..., EchoProcess]) -> tuple[str, int]:
    server = echo_process("--ping-interval", str(request.param), *KEEPALIVE)
    return server.url, server.pid


@pytest.mark.parametrize(("echo_server", "expected"), [(0.5, "PASS"), (0, "FAIL")],
                         indirect=["echo_server"], ids=["keepalive-on", "keepalive-off"])
def test_third_party_echo_server_gets_an_honest_verdict_on_zombies(
    echo_server: tuple[str, int], expected: str, tmp_path: Path
) -> None:
    url, pid = echo_server
    result = run_suite(SUITE, tmp_path, {"WS_URL": url, "SERVER_PID": str(pid)},
                       include=["AC-007.2", "AC-007.3", "AC-007.6", "AC-007.7"])
    assert result.by_criterion["AC-007.2"] == {expected}, result.messages
    # The half-open case goes through the fault proxy, so it works against any server.
    assert result.by_criterion["AC-007.6"] == {expected}, result.messages
    # 007.7: the stop-answering control is ours (SKIP), the blackholed proxy works anywhere.
    assert result.by_criterion["AC-007.7"] == {"SKIP", "PASS"}, result.messages
    skipped = [m for name, m in result.messages.items() if "Stops Answering" in name]
    assert skipped and "does not support the stop-answering test control" in skipped[0]
    if expected == "PASS":
        assert result.by_criterion["AC-007.3"] == {"PASS"}, result.messages


def test_without_metrics_or_pid_the_leak_check_skips_with_the_reason(
    tmp_path: Path, echo_process: Callable[..., EchoProcess]
) -> None:
    url = echo_process("--ping-interval", "0.5", *KEEPALIVE).url
    result = run_suite(SUITE, tmp_path, {"WS_URL": url}, include=["AC-007.3"])
    assert result.by_criterion["AC-007.3"] == {"SKIP"}
    assert "no metrics endpoint" in next(iter(result.messages.values()))
