"""WS-RESILIENCE-001 and the agent checks of 006 against a service the suites did not start.

The service is the reference server run by the test itself with a signing secret of the
test's choosing (``support.external_server``): to the suites it is only ``WS_URL``. Its users'
tokens come from ``AUTH_JWT_SECRET`` (the suite mints them, expired and forged ones included)
or from ``AUTH_TOKEN_COMMAND`` (a script that prints one per user). ``SERVER_COMMAND`` has the
suite start and restart a server it names, so 001.7 runs there too. Every run must give the
verdicts the bundled server gets, seeded defects must still fail their criteria, and neither
the secret nor any token may reach log.html, report.html or output.xml.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from support import suite_runner
from support.context_runs import token_findings
from support.external_server import TOKEN_COMMAND, External, external_server, server_command
from wsresilience.refserver.auth import SECRET_ENV

CONTEXT = "ws_resilience_001_context.robot"
FLAPPING = "ws_resilience_006_flapping.robot"
ALL_001 = {f"AC-001.{i}" for i in range(1, 9)}


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """The external server's signing secret, also in the environment commands inherit."""
    value = "ext-" + secrets.token_urlsafe(24)
    monkeypatch.setenv(SECRET_ENV, value)
    return value


def _explain(run: suite_runner.RunResult) -> str:
    return "\n".join(f"{status} {name}: {message[:300]}" for name, (status, message) in run.outcomes().items())


def _run(suite: str, outdir: Path, *variables: str, include: str = "", trace: bool = False) -> suite_runner.RunResult:
    """Run ``suite`` with ``--variable`` for each of ``variables``; ``trace`` logs at TRACE level
    (every keyword's arguments and return values)."""
    options = [opt for v in variables for opt in ("--variable", v)]
    if trace:
        options += ["--loglevel", "TRACE"]
    if include:
        options += ["--include", include]
    return suite_runner.run(suite, outdir, options)


def _target(server: External) -> list[str]:
    return [f"WS_URL:{server.url}", f"METRICS_URL:{server.metrics_url}", f"SERVER_PID:{server.pid}"]


def _no_secrets(outdir: Path, secret: str) -> None:
    assert token_findings(outdir, [secret]) == []


def test_001_runs_with_tokens_minted_from_the_services_secret(tmp_path: Path, secret: str) -> None:
    """WS_URL + AUTH_JWT_SECRET: every criterion passes; 001.7 skips, as the suite cannot restart it.
    Logged at TRACE level, and still no secret or token in the outputs."""
    with external_server(secret) as server:
        run = _run(CONTEXT, tmp_path, *_target(server), f"AUTH_JWT_SECRET:{secret}", "AUTH_JWT_ISSUER:refserver",
                   trace=True)
    found = run.by_criterion
    assert set(found) == ALL_001, _explain(run)
    assert all(found[c] == {"PASS"} for c in ALL_001 - {"AC-001.7"}), _explain(run)
    assert found["AC-001.7"] == {"SKIP"}, _explain(run)
    restarts = [m for name, (s, m) in run.outcomes().items() if "Restart" in name or "Crash" in name]
    assert all("SERVER_COMMAND" in m for m in restarts), _explain(run)
    _no_secrets(tmp_path, secret)


def test_tokens_for_the_wrong_issuer_are_refused_by_the_service(tmp_path: Path, secret: str) -> None:
    """The claims matter: tokens minted with another issuer are rejected, so every test fails."""
    with external_server(secret) as server:
        run = _run(CONTEXT, tmp_path, *_target(server), f"AUTH_JWT_SECRET:{secret}", "AUTH_JWT_ISSUER:someone-else",
                   include="AC-001.1")
    assert set(run.by_test.values()) == {"FAIL"}, _explain(run)
    _no_secrets(tmp_path, secret)


def test_001_runs_with_tokens_from_a_command(tmp_path: Path, secret: str) -> None:
    """WS_URL + AUTH_TOKEN_COMMAND that honours a negative {ttl}: the expired-token check runs too.
    Logged at TRACE level, and still no secret or token in the outputs."""
    with external_server(secret) as server:
        run = _run(CONTEXT, tmp_path, *_target(server), f"AUTH_TOKEN_COMMAND:{TOKEN_COMMAND}", trace=True)
    found = run.by_criterion
    assert all(found[c] == {"PASS"} for c in ALL_001 - {"AC-001.7"}), _explain(run)
    assert found["AC-001.7"] == {"SKIP"}, _explain(run)
    _no_secrets(tmp_path, secret)


def test_a_command_that_cannot_backdate_skips_the_expired_token_check(tmp_path: Path, secret: str) -> None:
    """With a command that ignores a negative {ttl}, 001.5 runs its other checks, then SKIPs saying why."""
    with external_server(secret) as server:
        run = _run(CONTEXT, tmp_path, *_target(server), f"AUTH_TOKEN_COMMAND:{TOKEN_COMMAND} --no-backdate",
                   include="AC-001.5")
    [(status, message)] = run.outcomes().values()
    assert status == "SKIP", _explain(run)
    assert "expired" in message and "AUTH_TOKEN_COMMAND" in message, message


def test_a_command_that_cannot_backdate_still_fails_a_broken_service(tmp_path: Path, secret: str) -> None:
    """The skip never hides a failure: with ignore-session-owner, 001.5 FAILs, not SKIPs."""
    with external_server(secret, "--defect", "ignore-session-owner") as server:
        run = _run(CONTEXT, tmp_path, *_target(server), f"AUTH_TOKEN_COMMAND:{TOKEN_COMMAND} --no-backdate",
                   include="AC-001.5")
    assert set(run.by_test.values()) == {"FAIL"}, _explain(run)


def test_ignore_session_owner_fails_001_5_on_an_external_service(tmp_path: Path, secret: str) -> None:
    """The seeded defect is found through WS_URL + AUTH_JWT_SECRET as on the bundled server."""
    with external_server(secret, "--defect", "ignore-session-owner") as server:
        run = _run(CONTEXT, tmp_path, *_target(server), f"AUTH_JWT_SECRET:{secret}", "AUTH_JWT_ISSUER:refserver",
                   include="AC-001.5")
    assert run.by_criterion["AC-001.5"] == {"FAIL"}, _explain(run)
    _no_secrets(tmp_path, secret)


def test_001_runs_whole_on_a_server_the_suite_starts_by_command(tmp_path: Path, secret: str) -> None:
    """SERVER_COMMAND + AUTH_JWT_SECRET: all twelve tests pass, the restarts of 001.7 included."""
    command = server_command(tmp_path / "data")
    run = _run(CONTEXT, tmp_path / "out", f"SERVER_COMMAND:{command}", f"AUTH_JWT_SECRET:{secret}",
               "AUTH_JWT_ISSUER:refserver")
    assert set(run.by_test.values()) == {"PASS"}, _explain(run)
    assert len(run.by_test) == 12
    assert (tmp_path / "data" / "sessions.sqlite3").exists(), "the suite did not run SERVER_COMMAND"
    _no_secrets(tmp_path / "out", secret)


def test_no_persistence_fails_001_7_through_server_command(tmp_path: Path, secret: str) -> None:
    """A server that keeps sessions in memory loses them on the restart the suite does by command."""
    command = server_command(tmp_path / "data", "--defect", "no-persistence")
    run = _run(CONTEXT, tmp_path / "out", f"SERVER_COMMAND:{command}", f"AUTH_JWT_SECRET:{secret}",
               "AUTH_JWT_ISSUER:refserver", include="AC-001.7")
    assert set(run.by_test.values()) == {"FAIL"}, _explain(run)


def test_006_agent_checks_run_on_an_external_service_with_tokens(tmp_path: Path, secret: str) -> None:
    """006.3 and 006.5 need users and agents: with AUTH_JWT_SECRET they run, and pass, on WS_URL."""
    with external_server(secret) as server:
        run = _run(FLAPPING, tmp_path, *_target(server), f"AUTH_JWT_SECRET:{secret}", "AUTH_JWT_ISSUER:refserver",
                   include="AC-006.3ORAC-006.5")
    assert run.by_criterion == {"AC-006.3": {"PASS"}, "AC-006.5": {"PASS"}}, _explain(run)
    _no_secrets(tmp_path, secret)


def test_duplicate_agents_fails_006_3_on_an_external_service(tmp_path: Path, secret: str) -> None:
    """The agent check is real on an external service: duplicate-agents fails it."""
    with external_server(secret, "--defect", "duplicate-agents") as server:
        run = _run(FLAPPING, tmp_path, *_target(server), f"AUTH_JWT_SECRET:{secret}", "AUTH_JWT_ISSUER:refserver",
                   include="AC-006.3")
    assert run.by_criterion == {"AC-006.3": {"FAIL"}}, _explain(run)
