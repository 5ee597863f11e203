"""`Configure Target TLS`: the run contract's ``WS_CA_FILE`` and ``WS_VERIFY_TLS``, applied to
every component, checked once against the target, and loud when verification is off.

Against a real TLS echo server (``support.echo_server`` with a private CA's certificate).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from robot.api import logger
from websockets.sync.client import connect

from wsresilience.NetworkFaults import NetworkFaults
from wsresilience.WebSocketResilience import WebSocketResilience
from wsresilience.errors import OpenFailed

from support.echo_server import EchoProcess
from support.tls_certs import TestCertificates


@pytest.fixture
def lib() -> Iterator[WebSocketResilience]:
    library = WebSocketResilience()
    yield library
    library.ctx.close()


@pytest.fixture
def tls_url(echo_process: Callable[..., EchoProcess], tls_certificates: TestCertificates) -> str:
    return echo_process(*tls_certificates.server_options()).url


def run(lib: WebSocketResilience, name: str, *args: object, **kwargs: object) -> object:
    return lib.run_keyword(name, list(args), kwargs)


def test_a_trusted_ca_file_reaches_every_connection(
    lib: WebSocketResilience, tls_url: str, tls_certificates: TestCertificates
) -> None:
    run(lib, "configure_target_tls", tls_url, ca_file=str(tls_certificates.ca))
    assert lib.ctx.target.url == tls_url and lib.ctx.target.ca_file == str(tls_certificates.ca)
    name = run(lib, "open_heartbeat_connection", tls_url)
    assert run(lib, "get_connection_state", name) == "OPEN"


def test_an_untrusted_target_fails_at_once_in_one_line(lib: WebSocketResilience, tls_url: str) -> None:
    with pytest.raises(OpenFailed) as info:
        run(lib, "configure_target_tls", tls_url)
    assert str(info.value) == (f"TLS certificate verification failed for {tls_url}: "
                               "unable to get local issuer certificate.")


def test_verification_off_is_said_as_a_warning_and_connects(
    lib: WebSocketResilience, tls_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(logger, "warn", lambda message, *a, **k: warnings.append(message))
    run(lib, "configure_target_tls", tls_url, verify_tls=False)
    assert lib.ctx.target.verify_tls is False
    assert warnings and warnings[0].startswith("TLS certificate verification is OFF (WS_VERIFY_TLS=False)")
    name = run(lib, "open_heartbeat_connection", tls_url)
    assert run(lib, "get_connection_state", name) == "OPEN"


def test_a_missing_ca_file_is_named(lib: WebSocketResilience, tls_url: str) -> None:
    with pytest.raises(ValueError, match=r"^Expected WS_CA_FILE to be a PEM file .* '/no/such.pem' is not a file\.$"):
        run(lib, "configure_target_tls", tls_url, ca_file="/no/such.pem")


def test_a_plain_target_needs_no_handshake_and_keeps_plain_connections(lib: WebSocketResilience) -> None:
    run(lib, "configure_target_tls", "ws://127.0.0.1:9/", ca_file="", verify_tls=True)
    assert lib.ctx.target.ssl_context("ws://127.0.0.1:9/") is None


# -- proxies in front of a wss:// target -------------------------------------------------------


def test_the_in_process_proxy_terminates_tls_and_serves_ws(
    tls_url: str, tls_certificates: TestCertificates
) -> None:
    library = NetworkFaults()
    try:
        library.ctx.target.ca_file = str(tls_certificates.ca)
        url = library.create_proxy(tls_url, name="tls")
        assert url.startswith("ws://127.0.0.1:"), url
        with connect(url) as ws:
            ws.send("through the proxy")
            assert ws.recv(timeout=5) == "through the proxy"
        assert library.drop_pong_frames("tls")  # a frame fault: the proxy sees plaintext frames
    finally:
        library.ctx.close()


def test_a_toxiproxy_api_carries_tls_through_and_refuses_frame_faults(
    tls_url: str, tls_certificates: TestCertificates
) -> None:
    api = subprocess.Popen([sys.executable, "-m", "wsresilience.faultproxy", "--api-port", "0"],
                           stdout=subprocess.PIPE, text=True)
    library: NetworkFaults | None = None
    try:
        assert api.stdout is not None
        line = api.stdout.readline()
        library = NetworkFaults(toxiproxy_url=line.rsplit(" ", 1)[-1].strip())
        library.ctx.target.ca_file = str(tls_certificates.ca)
        url = library.create_proxy(tls_url, name="bytes")
        assert url.startswith("wss://127.0.0.1:"), url
        with pytest.raises(AssertionError) as caught:
            library.drop_pong_frames("bytes")
        message = str(caught.value)
        assert "sees only ciphertext" in message and "in-process proxy" in message and "\n" not in message
    finally:
        if library is not None:
            library.ctx.close()
        api.terminate()
        api.wait(10)
