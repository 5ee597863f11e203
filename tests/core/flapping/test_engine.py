"""The flapping engine, on real sockets against real servers."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator

import pytest
from websockets.asyncio.server import ServerConnection, serve

from wsresilience.core.flapping.engine import Disconnect, FlapPlan, flap
from wsresilience.core.probes.sources import scrape
from wsresilience.core.servers.process import ServerProcess
from wsresilience.refserver.auth import SECRET_ENV, issue_token

SECRET = secrets.token_urlsafe(32)


@pytest.fixture
def refserver(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """The reference server as a process, with the defect named by the test's parameter."""
    defect = getattr(request, "param", "")
    args = ["--port", "0", *(["--defect", defect] if defect else [])]
    proc = ServerProcess(args, env={SECRET_ENV: SECRET, "REFSERVER_AGENT_GRACE": "0.2"})
    proc.start(15)
    try:
        yield proc
    finally:
        proc.stop()


def tokens(n: int) -> list[str]:
    return [issue_token(SECRET, f"user-{i}-{secrets.token_hex(3)}") for i in range(n)]


def test_authenticated_clients_keep_their_agent_across_reconnects(refserver: ServerProcess) -> None:
    plan = FlapPlan(refserver.url, clients=4, cycles=8, connected=0.02, disconnected=0.01, tokens=tokens(4))
    result = asyncio.run(flap(plan))
    assert result.success_rate == 100
    assert result.attempts == 32
    ids = result.agent_ids_by_client()
    assert sorted(ids) == [0, 1, 2, 3]
    assert all(len(agents) == 1 for agents in ids.values())
    assert len(set().union(*ids.values())) == 4


@pytest.mark.parametrize("refserver", ["duplicate-agents"], indirect=True)
def test_duplicate_agents_gives_a_new_agent_per_connection(refserver: ServerProcess) -> None:
    plan = FlapPlan(refserver.url, clients=2, cycles=5, connected=0.01, disconnected=0.0, tokens=tokens(2))
    result = asyncio.run(flap(plan))
    assert all(len(agents) == 5 for agents in result.agent_ids_by_client().values())
    metrics = scrape(refserver.http_url.rstrip("/") + "/metrics")
    assert metrics["ws_agent_instances"] == 10
    assert metrics["ws_agent_instances_per_user_max"] == 5


@pytest.mark.parametrize("refserver", ["throttle-reconnects"], indirect=True)
def test_throttled_reconnects_fail_with_their_cause(refserver: ServerProcess) -> None:
    plan = FlapPlan(refserver.url, clients=3, cycles=6, connected=0.1, disconnected=0.05, tokens=tokens(3))
    result = asyncio.run(flap(plan))
    assert 0 < result.success_rate < 99
    assert set(result.failures_by_cause) == {"auth refused: reconnect-throttled"}


def test_refused_connections_are_counted_by_cause() -> None:
    plan = FlapPlan("ws://127.0.0.1:9/", clients=2, cycles=3, connected=0, disconnected=0, open_timeout=2)
    result = asyncio.run(flap(plan))
    assert result.success_rate == 0
    assert result.failures_by_cause == {"connection refused": 6}


@pytest.mark.parametrize("mode, reset", [(Disconnect.ABORT, True), (Disconnect.GRACEFUL, False)])
def test_abort_resets_tcp_and_graceful_closes_with_a_handshake(mode: Disconnect, reset: bool) -> None:
    seen: list[tuple[bool, type | None]] = []

    class Watching(ServerConnection):
        def connection_lost(self, exc: Exception | None) -> None:
            seen.append((self.protocol.close_rcvd is not None, type(exc) if exc else None))
            super().connection_lost(exc)

    async def scenario() -> float:
        async def hold(ws: ServerConnection) -> None:
            await ws.wait_closed()

        async with serve(hold, "127.0.0.1", 0, create_connection=Watching) as server:
            port = server.sockets[0].getsockname()[1]
            plan = FlapPlan(f"ws://127.0.0.1:{port}/", clients=2, cycles=3, connected=0.01,
                            disconnected=0, disconnect=mode)
            result = await flap(plan)
            while len(seen) < 6:
                await asyncio.sleep(0.01)
            return result.success_rate

    assert asyncio.run(asyncio.wait_for(scenario(), 10)) == 100
    if reset:
        assert seen == [(False, ConnectionResetError)] * 6  # no close frame, a TCP reset
    else:
        assert all(close_frame for close_frame, _ in seen)


def test_jitter_is_reproducible_from_the_seed() -> None:
    async def durations(seed: int) -> list[float]:
        async def hold(ws: ServerConnection) -> None:
            await ws.wait_closed()

        async with serve(hold, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            plan = FlapPlan(f"ws://127.0.0.1:{port}/", clients=1, cycles=4, connected=0.05,
                            disconnected=0, jitter=0.5, seed=seed)
            result = await flap(plan)
            return [c.ended - c.started for c in result.cycles]

    a, b = asyncio.run(durations(3)), asyncio.run(durations(3))
    assert all(abs(x - y) < 0.02 for x, y in zip(a, b))
    assert max(a) - min(a) > 0.01  # jitter did vary the connected time
