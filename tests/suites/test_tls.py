"""The suites over ``wss://``: the same verdicts as over ``ws://``, with the TLS run contract.

Servers of our own speak TLS with a certificate from a private CA (``tls_certificates``):
the third-party echo server (websockets, keepalive 0.5 s / 0.5 s) and the reference server
(``--tls-cert/--tls-key``). The suites reach them through ``WS_URL=wss://…`` and trust the
CA through ``WS_CA_FILE``, or switch verification off with ``WS_VERIFY_TLS:False``; without
either, the run fails at once in one line naming the certificate problem. Frozen clients
and the fault proxy see frames, not ciphertext, so a healthy TLS server passes and a broken
one fails exactly the criteria it fails over plain WebSocket.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from wsresilience.core.servers.process import ServerProcess

from support.echo_server import EchoProcess
from support.suite_runner import RunResult, run_suite
from support.tls_certs import TestCertificates

HEARTBEAT = "ws_resilience_007_heartbeat.robot"
FLAPPING = "ws_resilience_006_flapping.robot"
STREAMS = "ws_resilience_002_stream_resume.robot"
#: The third-party echo server's keepalive besides its ping interval (as in test_007).
KEEPALIVE = ("--ping-timeout", "0.5", "--close-timeout", "0.5")
#: The reference server's settings the suites would start it with (thresholds.resource).
REFSERVER = ("--port", "0", "--ping-interval", "0.5", "--ping-timeout", "0.5", "--close-timeout", "0.5",
             "--session-ttl", "4")


@pytest.fixture
def tls_echo(echo_process: Callable[..., EchoProcess], tls_certificates: TestCertificates) -> Callable[..., EchoProcess]:
    """Start the echo server over TLS with the given keepalive interval."""
    return lambda interval: echo_process("--ping-interval", str(interval), *KEEPALIVE,
                                         *tls_certificates.server_options())


@contextmanager
def tls_refserver(certs: TestCertificates, *options: str) -> Iterator[dict[str, str]]:
    """The reference server over TLS; yields the run-contract variables that target it."""
    proc = ServerProcess([*REFSERVER, *certs.server_options(), *options])
    url = proc.start(15)
    try:
        assert url.startswith("wss://"), url
        yield {"WS_URL": url, "METRICS_URL": proc.http_url.rstrip("/") + "/metrics",
               "SERVER_PID": str(proc.pid), "WS_CA_FILE": str(certs.ca)}
    finally:
        proc.stop()


def statuses(result: RunResult) -> dict[str, set[str]]:
    return {c: s for c, s in result.by_criterion.items()}


def test_heartbeat_suite_over_wss_passes_a_healthy_tls_server(
    tls_echo: Callable[..., EchoProcess], tls_certificates: TestCertificates, tmp_path: Path
) -> None:
    server = tls_echo(0.5)
    result = run_suite(HEARTBEAT, tmp_path, {"WS_URL": server.url, "SERVER_PID": str(server.pid),
                                             "WS_CA_FILE": str(tls_certificates.ca)})
    expected = {f"AC-007.{i}": {"PASS"} for i in range(1, 7)}
    # 007.7: the stop-answering control is the reference server's (SKIP); the blackhole PASSes.
    expected["AC-007.7"] = {"SKIP", "PASS"}
    assert statuses(result) == expected, result.outcomes()


def test_heartbeat_suite_over_wss_fails_a_tls_server_without_keepalive(
    tls_echo: Callable[..., EchoProcess], tls_certificates: TestCertificates, tmp_path: Path
) -> None:
    server = tls_echo(0)
    result = run_suite(HEARTBEAT, tmp_path, {"WS_URL": server.url, "WS_CA_FILE": str(tls_certificates.ca)},
                       include=["AC-007.1", "AC-007.2", "AC-007.6"])
    assert statuses(result) == {c: {"FAIL"} for c in ("AC-007.1", "AC-007.2", "AC-007.6")}, result.outcomes()
    for message in result.messages.values():
        assert "\n" not in message.strip() and "Expected" in message, message


def test_verification_off_passes_and_says_so_in_the_log(
    tls_echo: Callable[..., EchoProcess], tmp_path: Path
) -> None:
    server = tls_echo(0.5)
    result = run_suite(HEARTBEAT, tmp_path, {"WS_URL": server.url, "WS_VERIFY_TLS": "False"},
                       include=["AC-007.1", "AC-007.2", "AC-007.6"])
    assert statuses(result) == {c: {"PASS"} for c in ("AC-007.1", "AC-007.2", "AC-007.6")}, result.outcomes()
    output = (result.outdir / "output.xml").read_text()
    assert "TLS certificate verification is OFF" in output


def test_an_untrusted_certificate_fails_the_run_at_once_in_one_line(
    tls_echo: Callable[..., EchoProcess], tmp_path: Path
) -> None:
    server = tls_echo(0.5)
    result = run_suite(HEARTBEAT, tmp_path, {"WS_URL": server.url})
    assert result.statuses() == {"FAIL"}, result.outcomes()
    expected = (f"TLS certificate verification failed for {server.url}: "
                "unable to get local issuer certificate.")
    for message in result.messages.values():
        # Robot prefixes each test's message with "Parent suite setup failed:".
        assert message.splitlines()[-1] == expected, message


def test_reference_server_over_tls_passes_the_heartbeat_suite_and_a_slow_reaper_fails(
    tls_certificates: TestCertificates, tmp_path: Path
) -> None:
    with tls_refserver(tls_certificates) as variables:
        healthy = run_suite(HEARTBEAT, tmp_path / "healthy", variables)
    assert statuses(healthy) == {f"AC-007.{i}": {"PASS"} for i in range(1, 8)}, healthy.outcomes()
    with tls_refserver(tls_certificates, "--defect", "slow-reaper") as variables:
        broken = run_suite(HEARTBEAT, tmp_path / "slow-reaper", variables, include=["AC-007.2"])
    assert statuses(broken) == {"AC-007.2": {"FAIL"}}, broken.outcomes()


#: 006 against an external service: the tests needing the reference protocol (tokens,
#: agents) SKIP; 006.4 (memory rounds) is slow and measured no differently over TLS.
FLAPPING_OVER_TLS = ["AC-006.1", "AC-006.2", "AC-006.6"]


def test_flapping_suite_over_tls_passes_healthy_and_fails_a_connection_leak(
    tls_certificates: TestCertificates, tmp_path: Path
) -> None:
    with tls_refserver(tls_certificates) as variables:
        healthy = run_suite(FLAPPING, tmp_path / "healthy", variables, include=FLAPPING_OVER_TLS)
    assert statuses(healthy) == {c: {"PASS"} for c in FLAPPING_OVER_TLS}, healthy.outcomes()
    with tls_refserver(tls_certificates, "--defect", "leak-connections") as variables:
        broken = run_suite(FLAPPING, tmp_path / "leak", variables, include=["AC-006.2"])
    assert statuses(broken) == {"AC-006.2": {"FAIL"}}, broken.outcomes()


def test_stream_suite_over_tls_passes_healthy_and_fails_a_skipping_resume(
    tls_certificates: TestCertificates, tmp_path: Path
) -> None:
    with tls_refserver(tls_certificates) as variables:
        healthy = run_suite(STREAMS, tmp_path / "healthy", variables)
    assert statuses(healthy) == {f"AC-002.{i}": {"PASS"} for i in range(1, 10)}, healthy.outcomes()
    with tls_refserver(tls_certificates, "--defect", "resume-skips") as variables:
        broken = run_suite(STREAMS, tmp_path / "skips", variables, include=["AC-002.1"])
    assert statuses(broken) == {"AC-002.1": {"FAIL"}}, broken.outcomes()
