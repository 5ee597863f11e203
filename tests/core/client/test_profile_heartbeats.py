"""Heartbeats per protocol profile, against real Node.js framework servers and the fault proxy.

An observed connection answers Socket.IO's ``2`` with ``3`` and graphql-ws's pings, keeps
heartbeat messages out of its message queue, plays a wholly silent ``no-pong`` Socket.IO
client, and the fault proxy's ``drop_pongs`` finds each framework's answers with the
profile's matcher (and only with it: the wrong matcher starves nothing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from support import heartbeat_servers
from support.fp_helpers import proxy_to, run
from support.heartbeat_servers import HeartbeatService
from wsresilience.core.client.connection import Behaviour, ObservedConnection
from wsresilience.core.profiles import get_profile
from wsresilience.core.profiles import socketio_packets as sio
from wsresilience.errors import OpenFailed
from wsresilience.faultproxy import ToxicError

#: Keepalive of the servers here, ms: interval and timeout alike.
KEEPALIVE = "300"
#: Pings a connection must survive to count as kept alive (interval + timeout is two of them).
SURVIVED = 5


@pytest.fixture
def service(request: pytest.FixtureRequest) -> Iterator[HeartbeatService]:
    reason = heartbeat_servers.unavailable()
    if reason:
        pytest.skip(reason)
    options = {"socketio": ("--ping-interval", KEEPALIVE, "--ping-timeout", KEEPALIVE),
               "graphql-ws": ("--keep-alive", KEEPALIVE), "rfc6455": ()}[request.param]
    with heartbeat_servers.serving(request.param, *options) as running:
        yield running


async def opened(url: str, profile: str) -> ObservedConnection:
    conn = ObservedConnection("c", url, get_profile(profile), {"user": "c"})
    await conn.open(5)
    return conn


async def outcome(conn: ObservedConnection) -> str:
    """``terminated`` if the server ends ``conn`` before it has received ``SURVIVED`` pings in
    all, else ``alive``; waits on events, at most 10 s."""
    await conn.wait_for(lambda: conn.terminated_at is not None or conn.events.count("ping received") >= SURVIVED, 10)
    state = "terminated" if conn.terminated_at is not None else "alive"
    await conn.close()
    return state


@pytest.mark.parametrize("service", ["socketio"], indirect=True)
def test_socketio_pings_are_answered_and_never_queued(service: HeartbeatService) -> None:
    async def scenario() -> tuple[str, int, int, bool, float | None]:
        conn = await opened(service.process.url, "socketio")
        result = await outcome(conn)
        return (result, conn.events.count("ping received"), conn.events.count("pong sent"), conn.messages.empty(),
                conn.announced.ping_timeout if conn.announced else None)

    result, pings, pongs, queue_empty, timeout = run(scenario)
    assert (result, queue_empty, timeout) == ("alive", True, 0.3)
    assert pings >= SURVIVED and pongs == pings


@pytest.mark.parametrize("service", ["socketio"], indirect=True)
def test_a_no_pong_socketio_client_sends_nothing_at_all(service: HeartbeatService) -> None:
    async def scenario() -> tuple[str, int, int]:
        conn = await opened(service.process.url, "socketio")
        conn.set_behaviour(Behaviour.NO_PONG)
        await conn.send(sio.event("message", "hello"))  # would postpone the ping timeout once
        result = await outcome(conn)
        return result, conn.events.count("message suppressed"), conn.events.count("pong suppressed")

    result, suppressed, pongs_suppressed = run(scenario)
    assert (result, suppressed) == ("terminated", 1) and pongs_suppressed >= 1


@pytest.mark.parametrize(("service", "matcher", "expected"), [
    ("socketio", "socketio", "terminated"),
    ("socketio", "control", "alive"),
    ("graphql-ws", "graphql-ws", "terminated"),
    ("graphql-ws", None, "alive"),
], indirect=["service"], ids=["socketio-matcher", "socketio-wrong-matcher", "graphql-ws-matcher", "graphql-ws-no-toxic"])
def test_drop_pongs_starves_each_framework_with_its_matcher(service: HeartbeatService, matcher: str | None,
                                                           expected: str) -> None:
    async def scenario() -> str:
        async with proxy_to(service.process.port) as proxy:
            if matcher is not None:
                await proxy.add_toxic("drop_pongs", stream="upstream", attributes={"matcher": matcher})
            return await outcome(await opened(f"ws://127.0.0.1:{proxy.port}/", service.profile))

    assert run(scenario) == expected


@pytest.mark.parametrize("service", ["graphql-ws"], indirect=True)
def test_graphql_ws_client_heartbeat_times_its_ping_messages(service: HeartbeatService) -> None:
    async def scenario() -> list[float]:
        conn = await opened(service.process.url, "graphql-ws")
        conn.start_heartbeat(0.05, 1.0)
        await conn.wait_for(lambda: len(conn.rtts_ms) >= 3 or conn.server_unresponsive_at is not None, 5)
        await conn.close()
        return list(conn.rtts_ms)

    assert len(run(scenario)) >= 3


def test_an_unknown_matcher_is_refused_naming_the_known_ones() -> None:
    async def scenario() -> None:
        async with proxy_to(9) as proxy:
            await proxy.add_toxic("drop_pongs", stream="upstream", attributes={"matcher": "signalr"})

    with pytest.raises(ToxicError, match="expected one of control, socketio, graphql-ws, got 'signalr'"):
        asyncio.run(scenario())


@pytest.mark.parametrize("service", ["rfc6455"], indirect=True)
def test_a_failed_application_handshake_fails_the_open_in_one_line(service: HeartbeatService) -> None:
    """A plain echo server echoes graphql-ws's connection_init instead of acknowledging it."""
    with pytest.raises(OpenFailed) as failed:
        run(lambda: opened(service.process.url, "graphql-ws"))
    message = str(failed.value)
    assert "The graphql-ws handshake with ws://127.0.0.1:" in message, message
    assert "expected connection_ack, got a 'connection_init' message" in message and "\n" not in message
