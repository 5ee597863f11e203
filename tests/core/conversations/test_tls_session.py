"""Session conversations over ``wss://``: the reference server with TLS, trusted through the
TLS context the library builds from ``WS_CA_FILE`` (the context every session connection uses)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wsresilience.core.client.tls import client_ssl_context
from wsresilience.core.conversations.attempts import session_start_answer
from wsresilience.core.runtime.loop import LoopThread
from wsresilience.core.servers.process import ServerProcess
from wsresilience.errors import OpenFailed

from support.tls_certs import TestCertificates


@pytest.fixture(scope="module")
def tls_refserver(tls_certificates: TestCertificates) -> Iterator[str]:
    proc = ServerProcess(["--port", "0", "--ping-interval", "0", *tls_certificates.server_options()])
    url = proc.start(15)
    yield url
    proc.stop()


def test_a_session_probe_speaks_the_protocol_over_tls(
    lt: LoopThread, tls_refserver: str, tls_certificates: TestCertificates
) -> None:
    assert tls_refserver.startswith("wss://")
    context = client_ssl_context(tls_refserver, str(tls_certificates.ca))
    answer = lt.run(session_start_answer(tls_refserver, 5, context), 15, "session-start answer")
    assert isinstance(answer, dict) and answer.get("code") == "unauthenticated", answer


def test_without_the_ca_the_session_fails_to_open_in_one_line(lt: LoopThread, tls_refserver: str) -> None:
    with pytest.raises(OpenFailed, match="^TLS certificate verification failed for wss://"):
        lt.run(session_start_answer(tls_refserver, 5, client_ssl_context(tls_refserver)), 15, "answer")
