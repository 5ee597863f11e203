"""The stream keywords as a component on the shared context, against the reference server.

What the suite cannot show directly: sessions live in ``ctx.stream_sessions`` (misses and
clashes worded by the registry), a session whose URL is a proxy's in ``ctx.proxies`` is cut
by that proxy whoever made it, the deprecated degraded proxy joins that registry and leaves
it, and the end of scope closes it all.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from wsresilience.components.streams import StreamKeywords
from wsresilience.context import LibraryContext
from wsresilience.core.faults.backends import InProcessBackend
from wsresilience.core.faults.handle import ProxyHandle
from wsresilience.core.servers.process import ServerProcess
from wsresilience.core.streams.backoff import RetryLog, retry
from wsresilience.core.streams.connection import StreamConnection
from wsresilience.core.streams.session import StreamSession
from wsresilience.errors import RetriesExhausted
from wsresilience.signoff import write_signoff
from wsresilience.StreamResume import StreamResume

from support import stream_servers
from support.inline_suites import outcomes, run_inline

MS = timedelta(milliseconds=1)


@pytest.fixture
def streams() -> Iterator[StreamKeywords]:
    ctx = LibraryContext(timedelta(seconds=5))
    component = StreamKeywords(ctx)
    yield component
    ctx.close()


def _cut_and_resume(streams: StreamKeywords, url: str) -> None:
    streams.connect_to_stream_service(url)
    streams.start_stream("s", size=8000, chunk_size=400, interval=5 * MS)
    assert streams.cut_connection_after_chunks("s", 5) >= 5
    streams.reconnect_and_resume_streams()
    streams.wait_until_streams_complete("s")
    streams.stream_should_be_intact("s")


def test_sessions_live_in_the_context_registry(streams: StreamKeywords, quiet_refserver: ServerProcess) -> None:
    streams.connect_to_stream_service(quiet_refserver.url, session="one")
    assert streams.ctx.stream_sessions.names() == ["one"]
    with pytest.raises(ValueError, match="A stream session named 'one' already exists"):
        streams.connect_to_stream_service(quiet_refserver.url, session="one")
    with pytest.raises(ValueError, match="No stream session named 'two'; known: one"):
        streams.start_stream("s", session="two")
    streams.close_stream_sessions()
    assert len(streams.ctx.stream_sessions) == 0


def test_a_failed_connect_leaves_no_session(streams: StreamKeywords) -> None:
    streams.set_stream_retry_policy(base=10 * MS, cap=20 * MS, limit=2)
    url = streams.get_unreachable_service_url()
    with pytest.raises(AssertionError, match="after 2 attempts"):
        streams.connect_to_stream_service(url, session="nowhere", timeout=timedelta(seconds=1))
    assert "nowhere" not in streams.ctx.stream_sessions
    streams.retry_delays_should_follow_the_policy(late=timedelta(milliseconds=200))


def test_getter_checks_with_an_assertion_operator(streams: StreamKeywords) -> None:
    from assertionengine import AssertionOperator

    assert streams.get_unreachable_service_url(AssertionOperator["*="], "127.0.0.1").startswith("ws://")
    with pytest.raises(AssertionError, match="no such host"):
        streams.get_unreachable_service_url(AssertionOperator["*="], "example.org", "no such host")


def test_any_proxy_in_the_context_cuts_the_sessions_through_it(streams: StreamKeywords,
                                                               quiet_refserver: ServerProcess) -> None:
    """A proxy another component made (here by hand) is found by URL and makes the cuts."""
    backend = InProcessBackend()
    upstream = quiet_refserver.url.split("//", 1)[1].rstrip("/")
    listen = streams.run(backend.create("elsewhere", upstream, None), "proxy to start")
    url = f"ws://{listen}/"
    streams.ctx.proxies.add("elsewhere", ProxyHandle("elsewhere", url, listen, upstream, quiet_refserver.url, backend))
    try:
        _cut_and_resume(streams, url)
        session = streams.ctx.stream_sessions.get("main")
        assert session.cutter is not None  # the proxy, not a client abort, made the cut
        assert backend.proxy("elsewhere").connections == 1  # only the resumed connection is left
    finally:
        streams.close_stream_sessions()
        streams.run(backend.close(), "proxy to stop")


def test_deprecated_degraded_proxy_joins_the_registry_and_leaves_it(streams: StreamKeywords,
                                                                    quiet_refserver: ServerProcess) -> None:
    url = streams.start_degraded_network_proxy(quiet_refserver.url, latency=2 * MS, jitter=1 * MS, seed=3)
    (name,) = streams.ctx.proxies.names()
    handle = streams.ctx.proxies.get(name)
    assert handle.serves(url)
    faults = streams.run(handle.backend.toxics(name), "toxics")
    assert {(t["type"], t["stream"]) for t in faults} == {
        ("latency", "downstream"), ("latency", "upstream"), ("bandwidth", "downstream")}
    with pytest.raises(RuntimeError, match="already running"):
        streams.start_degraded_network_proxy(quiet_refserver.url)
    _cut_and_resume(streams, url)
    assert streams.ctx.stream_sessions.get("main").cutter is not None
    streams.close_stream_sessions()
    streams.stop_degraded_network_proxy()
    streams.stop_degraded_network_proxy()  # safe to repeat
    assert streams.ctx.proxies.names() == []


def test_end_of_scope_closes_sessions_and_the_degraded_proxy(quiet_refserver: ServerProcess) -> None:
    ctx = LibraryContext(timedelta(seconds=5))
    streams = StreamKeywords(ctx)
    url = streams.start_degraded_network_proxy(quiet_refserver.url)
    streams.connect_to_stream_service(url)
    session = ctx.stream_sessions.get("main")
    ctx.close()
    assert len(ctx.stream_sessions) == 0 and len(ctx.proxies) == 0
    assert session.connection is not None and not session.connection.is_open


def test_view_has_the_renamed_refusal_and_takes_an_adapter() -> None:
    library = StreamResume(adapter="reference")
    names = library.get_keyword_names()
    assert "stream_resume_should_be_refused" in names
    assert "resume_should_be_refused" not in names
    assert library.get_keyword_tags("start_degraded_network_proxy") == ["Streams", "Deprecated"]
    with pytest.raises(ValueError, match="Cannot load stream adapter"):
        StreamResume(adapter="no.such.Adapter")


# -- answers the protocol does not allow: one line, at once ---------------------------------------

#: mode of tests/support/stream_servers.py -> what the failure must say arrived.
BAD_ANSWERS = {
    "invalid-json": "got a message that is not JSON: '{not JSON: wss://qa:***@example.test/ws?token=***",
    "unknown-type": "got a message of unknown type 'surprise': '{\"type\": \"surprise\"",
    "oversized": "the connection ended: the client's own message size limit (1048576 bytes) was exceeded",
}

#: The client's limit in these tests: the oversized answer (3 MiB) is over it.
LIMIT = 1 << 20


def _fails_at_once(call: Callable[[], object], bound: float = 1.0) -> str:
    """Run ``call``, which must fail within ``bound`` seconds; returns its one-line message."""
    began = time.monotonic()
    with pytest.raises(AssertionError) as failure:
        call()
    took = time.monotonic() - began
    message = str(failure.value)
    assert took < bound, f"took {took:.3f} s to fail (library timeout 5 s): {message}"
    assert "\n" not in message and len(message) < 400, message
    assert not any(secret in message for secret in stream_servers.SECRETS), message
    return message


@pytest.mark.parametrize("mode", sorted(BAD_ANSWERS))
def test_a_start_answered_with_what_the_protocol_does_not_allow_fails_at_once(
        streams: StreamKeywords, mode: str) -> None:
    streams.ctx.max_message_size = LIMIT
    with stream_servers.running("--start", mode) as url:
        streams.connect_to_stream_service(url)
        message = _fails_at_once(lambda: streams.start_stream("s"))
    assert message.startswith(f"Expected the answer to the start of stream 's' from {url}; "), message
    assert BAD_ANSWERS[mode] in message, message
    assert re.search(r"after \d+\.\d{3} s\.$", message), message


@pytest.mark.parametrize("mode", sorted(BAD_ANSWERS))
def test_a_resume_answered_with_what_the_protocol_does_not_allow_fails_at_once(
        streams: StreamKeywords, mode: str) -> None:
    streams.ctx.max_message_size = LIMIT
    with stream_servers.running("--start", "open", "--resume", mode) as url:
        streams.connect_to_stream_service(url)
        streams.start_stream("s")
        streams.cut_stream_connection()
        message = _fails_at_once(streams.reconnect_and_resume_streams)
    assert message.startswith(f"Expected the answer to the resume of s from {url}; "), message
    assert BAD_ANSWERS[mode] in message, message


@pytest.mark.parametrize("mode", sorted(BAD_ANSWERS))
def test_the_unknown_stream_probe_answered_with_what_the_protocol_does_not_allow_fails_at_once(
        streams: StreamKeywords, mode: str) -> None:
    streams.ctx.max_message_size = LIMIT
    with stream_servers.running("--resume", mode) as url:
        streams.connect_to_stream_service(url)
        message = _fails_at_once(streams.resume_of_unknown_stream_should_be_refused)
    assert message.startswith(f"Expected the answer to the resume of an unknown stream from {url}; "), message
    assert BAD_ANSWERS[mode] in message, message


# -- the unknown-stream probe ---------------------------------------------------------------------


def test_the_unknown_stream_probe_sends_the_epoch_even_before_any_stream(streams: StreamKeywords) -> None:
    """A strict server refuses a resume without its epoch as epoch-changed; with no stream started
    on the session yet, the probe learns the epoch first (from a one-byte stream it forgets)."""
    strict = ServerProcess(["--port", "0", "--ping-interval", "0", "--require-epoch"])
    strict.start(15)
    try:
        streams.connect_to_stream_service(strict.url)
        assert streams.resume_of_unknown_stream_should_be_refused() == "unknown-stream"
        assert streams.ctx.stream_sessions.get("main").streams == {}  # the epoch probe is gone
    finally:
        strict.stop()


def test_a_wrong_answer_to_the_probe_is_a_sentence_on_the_signoff_page(tmp_path: Path) -> None:
    """The refusal reads ``error 'stream-complete' (this server answers so)``, in the failure
    and in the figure note the sign-off page shows, never ``Refused(code=…, stream_id=…)``."""
    suite = """*** Settings ***
Documentation    WS-PROBE-011: the unknown-stream probe.
...    | =Criterion= | =Requirement= |
...    | AC-011.1 | An unknown stream is refused as such. |
Metadata    Test ID    WS-PROBE-011
Library    wsresilience.WebSocketResilience

*** Test Cases ***
Probe
    [Tags]    AC-011.1
    Connect To Stream Service    ${URL}
    Resume Of Unknown Stream Should Be Refused    criterion=AC-011.1
"""
    with stream_servers.running("--resume", "error:stream-complete") as url:
        _, result = run_inline(tmp_path, suite, {"URL": url}, name="probe")
    said = "answered with error 'stream-complete' (this server answers so)"
    ((status, message),) = outcomes(result).values()
    assert status == "FAIL"
    assert message == (f"Resuming an unknown stream at {url} got {said}; expected error "
                       "'unknown-stream'."), message
    page = html.unescape(write_signoff(tmp_path / "output.xml", log=None).read_text())
    assert f"The service {said}." in page
    assert "Refused(" not in page and "stream_id" not in page


# -- retry delays, each against its own planned delay ---------------------------------------------


def _retry_against_a_closed_port(streams: StreamKeywords, sleep: Callable[[float], Awaitable[None]]) -> None:
    """Connect to a closed port with the session's policy and ``sleep`` between attempts; the
    failed session is what `Retry Delays Should Follow The Policy` then judges."""
    session = StreamSession("nowhere", streams.get_unreachable_service_url(), streams.adapter,
                            streams.policy, open_timeout=1)
    log = RetryLog(streams.policy)
    session.retry_logs.append(log)

    async def attempt() -> None:
        conn = StreamConnection("nowhere", session.url, 1, session.on_message, session.changed.set)
        await conn.open(1)

    with pytest.raises(RetriesExhausted):
        streams.run(retry(attempt, streams.policy, "connecting", log, sleep=sleep), "retries")
    streams._last_failed_session = session


def test_a_client_that_never_waits_between_attempts_fails_the_delay_check(streams: StreamKeywords) -> None:
    """Delays of 2-25 ms, all below the old ± 30 ms tolerance: a client that never waited
    passed. Each delay is now judged against its own planned value."""
    streams.set_stream_retry_policy(base=10 * MS, factor=2, cap=25 * MS, limit=4, seed=7)

    async def no_wait(_delay: float) -> None:
        return None

    _retry_against_a_closed_port(streams, no_wait)
    with pytest.raises(AssertionError, match=r"delay before attempt 2 = [\d.]+ ms"):
        streams.retry_delays_should_follow_the_policy()


def test_a_client_that_waits_as_planned_passes_the_delay_check(streams: StreamKeywords) -> None:
    streams.set_stream_retry_policy(base=10 * MS, factor=2, cap=25 * MS, limit=4, seed=7)
    _retry_against_a_closed_port(streams, asyncio.sleep)
    streams.retry_delays_should_follow_the_policy()
