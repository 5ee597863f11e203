"""The heartbeat component on a library context, against a websockets server on loopback:
named handles in the context registry, TLS settings from the target, getters that assert
with a message, RTTs read through the loop, failures worded by the keyword, cleanup."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from assertionengine import AssertionOperator as Op
from websockets.asyncio.server import Server, serve
from websockets.exceptions import ConnectionClosed

from wsresilience import context as context_module
from wsresilience.components.heartbeat import HeartbeatKeywords
from wsresilience.context import LibraryContext
from wsresilience.core.client import observe
from wsresilience.core.client.connection import Behaviour
from wsresilience.core.client.tls import client_ssl_context
from wsresilience.errors import ResilienceFailure


class Echo:
    """A websockets echo server on the context's loop; ``ping_interval=None`` never pings."""

    def __init__(self, ctx: LibraryContext, ping_interval: float | None) -> None:
        self.ctx = ctx

        async def echo(ws: Any) -> None:
            with contextlib.suppress(ConnectionClosed):
                async for message in ws:
                    await ws.send(message)

        async def start() -> Server:
            return await serve(echo, "127.0.0.1", 0, ping_interval=ping_interval, ping_timeout=0.3,
                               close_timeout=0.3)

        self.server = ctx.run(start(), "test server to start", 5)
        self.url = f"ws://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"

    def close(self) -> None:
        async def stop() -> None:
            self.server.close()
            await self.server.wait_closed()

        self.ctx.run(stop(), "test server to stop", 5)


@pytest.fixture
def hb() -> Iterator[HeartbeatKeywords]:
    ctx = LibraryContext(timeout=timedelta(seconds=3))
    component = HeartbeatKeywords(ctx)
    try:
        yield component
    finally:
        ctx.close()


@pytest.fixture
def pinging(hb: HeartbeatKeywords) -> Iterator[Echo]:
    server = Echo(hb.ctx, ping_interval=0.1)
    yield server
    hb.close_heartbeat_connections()
    server.close()


@pytest.fixture
def quiet(hb: HeartbeatKeywords) -> Iterator[Echo]:
    server = Echo(hb.ctx, ping_interval=None)
    yield server
    hb.close_heartbeat_connections()
    server.close()


def test_connections_are_named_handles_in_the_context_registry(hb: HeartbeatKeywords, quiet: Echo) -> None:
    assert hb.open_heartbeat_connection(quiet.url) == "client-1"
    assert hb.open_heartbeat_connections(quiet.url, 2) == ["client-2", "client-3"]
    assert hb.open_heartbeat_connections(quiet.url, 2, prefix="load") == ["load-1", "load-2"]
    assert hb.ctx.connections.names() == ["client-1", "client-2", "client-3", "load-1", "load-2"]
    with pytest.raises(ValueError, match="A connection named 'load-1' already exists"):
        hb.open_heartbeat_connection(quiet.url, name="load-1")
    with pytest.raises(ValueError, match=r"No connection named 'nope'; known: client-1, client-2"):
        hb.get_connection_state("nope")
    hb.close_heartbeat_connections(["client-2", "load-1"])
    assert hb.ctx.connections.names() == ["client-1", "client-3", "load-2"]
    assert hb.get_open_connection_names() == ["client-1", "client-3", "load-2"]
    hb.close_heartbeat_connections("ALL")
    assert len(hb.ctx.connections) == 0


def test_tls_arguments_fall_back_to_the_library_target(
    hb: HeartbeatKeywords, quiet: Echo, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str | None, bool]] = []

    def spy(url: str, ca_file: str | None = None, verify_tls: bool = True) -> Any:
        seen.append((url, ca_file, verify_tls))
        return client_ssl_context(url, ca_file, verify_tls)

    monkeypatch.setattr(context_module, "client_ssl_context", spy)
    hb.ctx.target.ca_file, hb.ctx.target.verify_tls = "/etc/target-ca.pem", False
    hb.open_heartbeat_connection(quiet.url)
    hb.open_heartbeat_connection(quiet.url, ca_file="/tmp/mine.pem", verify_tls=True)
    assert seen == [(quiet.url, "/etc/target-ca.pem", False), (quiet.url, "/tmp/mine.pem", True)]


def test_client_ssl_context_only_for_wss() -> None:
    assert client_ssl_context("ws://example.test/") is None
    strict = client_ssl_context("wss://example.test/")
    assert strict is not None and strict.check_hostname
    lax = client_ssl_context("wss://example.test/", verify_tls=False)
    assert lax is not None and not lax.check_hostname


def test_getters_assert_with_the_callers_message(hb: HeartbeatKeywords, quiet: Echo) -> None:
    name = hb.open_heartbeat_connection(quiet.url)
    assert hb.get_connection_state(name) == "OPEN"
    assert hb.get_connection_state(name, Op["=="], "OPEN") == "OPEN"
    with pytest.raises(AssertionError, match="^the state was wrong$"):
        hb.get_connection_state(name, Op["=="], "CLOSED", message="the state was wrong")
    assert hb.get_close_code(name) is None
    with pytest.raises(AssertionError, match="^no close yet$"):
        hb.get_close_code(name, Op["=="], 1000, message="no close yet")
    assert hb.get_termination_time(name) is None
    with pytest.raises(AssertionError, match="^still here$"):
        hb.get_open_connection_names(Op["not contains"], name, message="still here")


def test_round_trip_times_are_read_through_the_loop(hb: HeartbeatKeywords, quiet: Echo) -> None:
    name = hb.open_heartbeat_connection(quiet.url)
    with pytest.raises(ResilienceFailure, match="Use Start Client Heartbeat first"):
        hb.get_round_trip_time()
    hb.start_client_heartbeat(name, timedelta(milliseconds=30), timedelta(milliseconds=300))
    conn = hb.ctx.connections.get(name)
    assert hb.ctx.run(conn.wait_for(lambda: len(conn.rtts_ms) >= 3, 3), "RTTs", 4)
    assert 0 < hb.get_round_trip_time("p95", Op["<"], 100, connections=name) < 100
    with pytest.raises(AssertionError, match="^too slow$"):
        hb.get_round_trip_time("max", Op["<"], 0, message="too slow")
    stats = hb.get_latency_statistics(name)
    assert stats["count"] >= 3 and stats["max"] < 100
    assert hb.get_latency_statistics(name, Op["contains"], "jitter") == stats
    snapshot = hb.call(conn.rtt_samples)
    assert snapshot == conn.rtts_ms and snapshot is not conn.rtts_ms


def test_a_ping_that_never_comes_fails_in_the_keyword_and_leaves_the_client_responsive(
    hb: HeartbeatKeywords, quiet: Echo
) -> None:
    name = hb.open_heartbeat_connection(quiet.url)
    with pytest.raises(ResilienceFailure, match=r"^Expected a server ping on client-1 within 0.30 s; none came"):
        hb.delay_answering_the_next_ping(name, timedelta(milliseconds=100), timeout=timedelta(milliseconds=300))
    assert hb.ctx.connections.get(name).behaviour is Behaviour.RESPONSIVE
    with pytest.raises(ResilienceFailure, match=r"^Expected 1 server pings on client-1 within 0.20 s; received 0"):
        hb.wait_for_server_pings(name, 1, timeout=timedelta(milliseconds=200))


def test_zombie_is_terminated_and_judged_against_its_bound(hb: HeartbeatKeywords, pinging: Echo) -> None:
    zombie, healthy = hb.open_heartbeat_connections(pinging.url, 2)
    assert hb.wait_for_server_pings(zombie, 2) >= 2
    with pytest.raises(ValueError, match="is responsive; make it silent first"):
        hb.connection_should_be_terminated_within(zombie, timedelta(seconds=1))
    hb.set_connection_behaviour(zombie, "no-pong")
    took = hb.connection_should_be_terminated_within(zombie, timedelta(seconds=1))
    assert 0 < took <= 1
    assert hb.get_connection_state(zombie) in ("TERMINATED", "CLOSED")
    assert hb.get_close_code(zombie, Op["=="], 1011) == 1011
    assert hb.get_open_connection_names() == [healthy]
    assert hb.every_server_ping_should_be_answered(healthy) >= 1
    hb.connections_should_stay_open_for(healthy, timedelta(milliseconds=300))
    with pytest.raises(ResilienceFailure, match=r"^Expected 1 connection\(s\) to stay open for 0.30 s; the server "
                                                 r"terminated client-1 \(client-1: "):
        hb.connections_should_stay_open_for(zombie, timedelta(milliseconds=300))


def test_the_server_silence_clock_lives_on_the_connection(hb: HeartbeatKeywords, quiet: Echo) -> None:
    name = hb.open_heartbeat_connection(quiet.url)
    with pytest.raises(ValueError, match="Use Make Server Stop Answering or Mark Server Silent From Now"):
        hb.server_should_be_detected_unresponsive_within(name, timedelta(seconds=1))
    before = time.monotonic()
    hb.mark_server_silent_from_now(name)
    assert before <= hb.ctx.connections.get(name).server_silenced_at <= time.monotonic()
    with pytest.raises(ValueError, match="Start Client Heartbeat on client-1 first"):
        hb.server_should_be_detected_unresponsive_within(name, timedelta(seconds=1))


def test_set_heartbeat_timeout_is_deprecated_and_sets_the_library_timeout(hb: HeartbeatKeywords) -> None:
    assert hb.set_heartbeat_timeout(timedelta(seconds=30)) == "3 seconds"
    assert hb.ctx.timeout == 30


def test_library_close_closes_every_connection(quiet: Echo) -> None:
    ctx = quiet.ctx
    hb = HeartbeatKeywords(ctx)
    names = hb.open_heartbeat_connections(quiet.url, 3, prefix="left")
    hb.set_connection_behaviour(names[0], "frozen")
    conns = ctx.connections.many(names)
    hb._close_every_connection()
    assert len(ctx.connections) == 0
    assert all(c.closing_by_us for c in conns)


def test_watching_no_connections_returns_at_once() -> None:
    started = time.monotonic()
    assert asyncio.run(observe.wait_for_first_termination([], 5)) == []
    assert time.monotonic() - started < 1


def test_many_held_connections_are_kept_off_the_garbage_collector_until_closed() -> None:
    """From ``gc_freeze_at`` held connections the library freezes the collector's view of
    them (``gc.freeze()``); closing below it, or the end of the scope, hands them back."""
    import gc

    gc.unfreeze()
    ctx = LibraryContext(timeout=timedelta(seconds=3), gc_freeze_at=3)
    hb = HeartbeatKeywords(ctx)
    server = Echo(ctx, ping_interval=None)
    try:
        first = hb.open_heartbeat_connections(server.url, 2, prefix="a")
        assert gc.get_freeze_count() == 0
        hb.open_heartbeat_connections(server.url, 2, prefix="b")
        assert gc.get_freeze_count() > 0 and ctx.held_gc.frozen
        hb.close_heartbeat_connections(first)
        assert gc.get_freeze_count() == 0 and not ctx.held_gc.frozen
        hb.open_heartbeat_connections(server.url, 1, prefix="c")
        assert gc.get_freeze_count() > 0
        server.close()
        ctx.close()  # the end of the scope hands the rest back
        assert gc.get_freeze_count() == 0
    finally:
        ctx.close()
        gc.unfreeze()
