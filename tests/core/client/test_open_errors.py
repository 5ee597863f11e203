"""Open errors met for real, sorted into permanent (no retry heals them) and transient, and
worded in one line that names the cause (and, for a timeout, the time given)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from wsresilience.core.client.connection import ObservedConnection
from wsresilience.core.client.open_errors import is_permanent
from wsresilience.core.client.tls import client_ssl_context
from wsresilience.core.runtime.loop import LoopThread
from wsresilience.errors import OpenFailed

from support.broken_targets import (
    NAMES_THE_CAUSE,
    PERMANENT,
    TRANSIENT,
    UNKNOWN_HOST_DNS,
    broken_targets,
    refused_url,
    silent_listener,
)


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the untrusted target's certificate (cert.pem) is written."""
    return tmp_path_factory.mktemp("tls")


@pytest.fixture(scope="module")
def targets(tls_dir: Path) -> Iterator[dict[str, str]]:
    with broken_targets(tls_dir) as urls:
        yield urls


def open_error(lt: LoopThread, url: str, timeout: float = 3.0) -> OpenFailed:
    """The OpenFailed that opening ``url`` raises (fails the test if it opens)."""

    async def go() -> None:
        await ObservedConnection("c", url).open(timeout)

    with pytest.raises(OpenFailed) as info:
        lt.run(go(), timeout + 12, f"opening {url}")
    return info.value


@pytest.mark.parametrize("name", PERMANENT)
def test_permanent_open_errors_are_told_apart_and_named(lt: LoopThread, targets: dict[str, str], name: str) -> None:
    error = open_error(lt, targets[name])
    assert is_permanent(error), f"{name}: {error} ({error.cause!r})"
    assert NAMES_THE_CAUSE[name] in str(error)
    assert "\n" not in str(error)


@pytest.mark.parametrize("name", TRANSIENT)
def test_come_back_later_answers_are_transient(lt: LoopThread, targets: dict[str, str], name: str) -> None:
    error = open_error(lt, targets[name])
    assert not is_permanent(error), f"{name}: {error}"
    assert f"answered HTTP {name[-3:]}" in str(error)


def test_a_refused_connection_is_transient(lt: LoopThread) -> None:
    error = open_error(lt, refused_url())
    assert not is_permanent(error)
    assert "Connection refused" in str(error)


def test_a_handshake_timeout_is_transient_and_says_how_long_it_waited(lt: LoopThread) -> None:
    with silent_listener() as url:
        error = open_error(lt, url, timeout=0.3)
    assert not is_permanent(error)
    assert "did not complete within 0.300 s" in str(error)


def test_a_name_the_dns_does_not_know_is_permanent(lt: LoopThread) -> None:
    """The plain ``.invalid`` name, through the real resolver (no time bound: see
    support.broken_targets for the resolver's occasional 5 s retry)."""
    error = open_error(lt, UNKNOWN_HOST_DNS)
    assert isinstance(error.cause, socket.gaierror) and is_permanent(error)
    assert "Cannot resolve the host of ws://no-such-host.invalid/" in str(error)


def test_the_resolvers_try_again_is_transient() -> None:
    """EAI_AGAIN (no DNS server answered) may heal; the resolver cannot be made to say it on
    demand, so the error is built as the resolver raises it."""
    assert not is_permanent(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"))
    assert is_permanent(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))


def test_the_certificate_is_trusted_once_its_ca_is_given(lt: LoopThread, targets: dict[str, str],
                                                        tls_dir: Path) -> None:
    """The untrusted-TLS target is a working wss:// server: with the CA that signed it trusted
    the same open succeeds, so the permanent error above is the certificate, nothing else."""
    url = targets["untrusted-tls"]
    cert = tls_dir / "ca.pem"  # the private CA that signed the server certificate

    async def go() -> bool:
        conn = ObservedConnection("c", url)
        await conn.open(3, client_ssl_context(url, str(cert)))
        await conn.close()
        return conn.opened_at is not None

    assert lt.run(go(), 5, "opening with the CA")
