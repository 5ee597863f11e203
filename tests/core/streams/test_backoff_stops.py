"""The reconnect backoff retries only what can heal: a permanent open error stops it at once,
naming the error, the attempts and the time; a transient one is retried to the limit.

Real opens against real broken targets (see support.broken_targets); the schedule itself is
tested in test_resume_units.py.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from wsresilience.core.client.connection import ObservedConnection
from wsresilience.core.runtime.loop import LoopThread
from wsresilience.core.streams.backoff import BackoffPolicy, RetryLog, retry
from wsresilience.errors import RetriesExhausted, RetryStopped

from support.broken_targets import NAMES_THE_CAUSE, PERMANENT, broken_targets, refused_url

#: The default policy's shape (8 attempts, up to 2 s apart) with shorter delays: a retry that
#: wrongly went on would take 8 attempts and about 1.3 s, well past one attempt.
POLICY = BackoffPolicy(base=0.05, factor=2, cap=0.4, limit=8, jitter="none")
#: How soon a permanent error must end the retry.
AT_ONCE = 2.0


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with broken_targets(tmp_path_factory.mktemp("tls")) as urls:
        yield urls


def failed_retry(lt: LoopThread, url: str) -> tuple[RetriesExhausted, RetryLog, float]:
    """Retry opening ``url`` per POLICY until the retry fails; its error, log and seconds spent."""
    log = RetryLog(POLICY)

    async def attempt() -> ObservedConnection:
        conn = ObservedConnection("c", url)
        await conn.open(1.0)
        return conn

    started = time.monotonic()
    with pytest.raises(RetriesExhausted) as info:
        lt.run(retry(attempt, POLICY, f"connecting to {url}", log), 30, "the retry")
    return info.value, log, time.monotonic() - started


@pytest.mark.parametrize("name", PERMANENT)
def test_a_permanent_error_stops_the_retry_at_once_naming_it(lt: LoopThread, targets: dict[str, str],
                                                             name: str) -> None:
    error, log, took = failed_retry(lt, targets[name])
    message = str(error)
    assert isinstance(error, RetryStopped), message
    assert len(log.attempts) == 1, message
    assert took < AT_ONCE, f"took {took:.3f} s: {message}"
    assert message.startswith("Stopped connecting to ")
    assert "after 1 attempt of 8 in " in message and "a permanent error, which no retry can heal" in message
    assert NAMES_THE_CAUSE[name] in message


@pytest.mark.parametrize("name", ["refused", "http-503"])
def test_a_transient_error_is_retried_to_the_limit(lt: LoopThread, targets: dict[str, str], name: str) -> None:
    error, log, _ = failed_retry(lt, refused_url() if name == "refused" else targets[name])
    assert not isinstance(error, RetryStopped), str(error)
    assert len(log.attempts) == 8 and str(error).startswith("Gave up connecting to")


def test_give_up_decides_and_the_permanent_rule_is_only_its_default() -> None:
    policy = BackoffPolicy(base=0.001, cap=0.002, limit=3)
    calls = 0

    async def unknown_host() -> None:
        nonlocal calls
        calls += 1
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(RetriesExhausted) as info:
        asyncio.run(retry(unknown_host, policy, "x", give_up=lambda exc: False))
    assert calls == 3 and not isinstance(info.value, RetryStopped)
    with pytest.raises(RetryStopped):
        asyncio.run(retry(unknown_host, policy, "x"))
    assert calls == 4
