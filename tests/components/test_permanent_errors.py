"""Errors no retry can heal stop the keywords that retry, at once, naming the error.

`Connect To Stream Service` and `Reconnect And Resume Streams` retry per the stream retry
policy (8 attempts by default); `Flap Clients` reconnects 10 clients × 50 times. Against a
malformed URL, an unknown host, an untrusted certificate or an HTTP 4xx answer to the
upgrade, every one of those attempts fails the same way: the keyword must stop after the
first, within :data:`AT_ONCE`, with the error in its one-line message. Each target is real
(see support.broken_targets); the default retry policy and flapping shape are used, so a
keyword that wrongly went on would take about 3 s (streams) or 2.5 s and more (flapping).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from wsresilience.context import LibraryContext
from wsresilience.components.flapping import FlappingKeywords
from wsresilience.components.streams import StreamKeywords
from wsresilience.errors import ResilienceFailure

from support.broken_targets import NAMES_THE_CAUSE, PERMANENT, broken_targets
from support.echo_server import EchoProcess

#: How soon a keyword must fail once the error is permanent.
AT_ONCE = 2.0


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with broken_targets(tmp_path_factory.mktemp("tls")) as urls:
        yield urls


@pytest.fixture
def ctx() -> Iterator[LibraryContext]:
    context = LibraryContext(timedelta(seconds=10))
    yield context
    context.close()


def failure(call: Callable[[], object]) -> tuple[str, float]:
    """The one-line failure of ``call`` and the seconds it took to fail."""
    started = time.monotonic()
    with pytest.raises(ResilienceFailure) as info:
        call()
    return str(info.value), time.monotonic() - started


@pytest.mark.parametrize("name", PERMANENT)
def test_connect_to_stream_service_stops_at_a_permanent_error(ctx: LibraryContext, targets: dict[str, str],
                                                               name: str) -> None:
    streams = StreamKeywords(ctx)
    message, took = failure(lambda: streams.connect_to_stream_service(targets[name]))
    assert took < AT_ONCE, f"took {took:.3f} s: {message}"
    assert NAMES_THE_CAUSE[name] in message, message
    assert "after 1 attempt of 8" in message and "no retry can heal" in message, message
    assert "main" not in ctx.stream_sessions


def test_reconnect_stops_when_the_service_turns_the_client_away(
    ctx: LibraryContext, echo_process: Callable[..., EchoProcess]
) -> None:
    server = echo_process("--answer-status", "403", "--accept-first", "1", "--ping-interval", "0")
    streams = StreamKeywords(ctx)
    streams.connect_to_stream_service(server.url)
    streams.cut_stream_connection()
    message, took = failure(lambda: streams.reconnect_and_resume_streams())
    assert took < AT_ONCE, f"took {took:.3f} s: {message}"
    assert "answered HTTP 403" in message and "after 1 attempt of 8" in message, message


@pytest.mark.parametrize("name", PERMANENT)
def test_flap_clients_stops_at_a_permanent_error_naming_it(ctx: LibraryContext, targets: dict[str, str],
                                                           name: str) -> None:
    flapping = FlappingKeywords(ctx)
    message, took = failure(lambda: flapping.flap_clients(targets[name]))  # 10 clients × 50 cycles
    assert took < AT_ONCE, f"took {took:.3f} s: {message}"
    assert NAMES_THE_CAUSE[name] in message, message
    assert "error no reconnect can heal" in message and "so the run stopped after" in message, message
    assert not message.startswith("Timed out"), message


def test_flap_clients_counts_transient_failures_as_before(ctx: LibraryContext, targets: dict[str, str]) -> None:
    """HTTP 503 may heal: every planned cycle is tried, and the run fails only as a run."""
    flapping = FlappingKeywords(ctx)
    message, _ = failure(lambda: flapping.flap_clients(targets["http-503"], clients=2, cycles=3,
                                                       connected=timedelta(0), disconnected=timedelta(0)))
    assert message.endswith("none of 6 cycles succeeded (HTTP 503 ×6)."), message
