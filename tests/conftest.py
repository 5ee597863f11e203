"""Fixtures shared by the test folders; the helpers they stand on live in ``tests/support``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from wsresilience.core.runtime.loop import LoopThread
from wsresilience.core.servers.process import ServerProcess

from support import echo_server, tls_certs
from support.echo_server import EchoProcess
from support.tls_certs import TestCertificates


@pytest.fixture
def echo_process() -> Iterator[Callable[..., EchoProcess]]:
    """Start third-party echo servers (``tests/support/echo_server.py``) as processes.

    ``echo_process("--ping-interval", "0.5")`` starts one with those options and returns its
    URL, port and pid; every one started is stopped when the test ends.
    """
    with ExitStack() as stack:
        yield lambda *options: stack.enter_context(echo_server.running(*options))


@pytest.fixture(scope="session")
def tls_certificates(tmp_path_factory: pytest.TempPathFactory) -> TestCertificates:
    """A private CA (``ca``, the bundle to trust) and a server certificate and key it signed
    for ``localhost`` and ``127.0.0.1``; made once per test session (``support.tls_certs``)."""
    return tls_certs.make(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def lt() -> Iterator[LoopThread]:
    """A loop thread of the core's own (not the shared one), stopped after the test."""
    runner = LoopThread(name="test-loop")
    runner.start()
    yield runner
    runner.stop()


@pytest.fixture(scope="module")
def quiet_refserver() -> Iterator[ServerProcess]:
    """The reference server as a process, keepalive off (it never pings); one per test module."""
    proc = ServerProcess(["--port", "0", "--ping-interval", "0"])
    proc.start(15)
    yield proc
    proc.stop()
