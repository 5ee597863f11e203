"""The flapping engine, on real sockets against real servers."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator

import pytest
from websockets.asyncio.server import ServerConnection, serve

from wsresilience.core.flapping.engine import Disconnect, FlapPlan, flap
from wsresilience.core.probes.sources import scrape
from wsresilience.core.servers.process import ServerProcess
from wsresilience.refserver.auth import SECRET_ENV, issue_token

from support.broken_targets import NAMES_THE_CAUSE, PERMANENT, broken_targets
from support.echo_server import EchoProcess

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


# -- errors no reconnect heals, and the client's own limit ------------------------------------

#: The suite's flapping shape: 10 clients × 50 cycles, 100 ms connected, 50 ms disconnected.
SUITE_SHAPE = {"clients": 10, "cycles": 50, "connected": 0.1, "disconnected": 0.05, "open_timeout": 5}
#: How soon a permanent error must stop the run (flapping on would take 50 × 50 ms at least).
AT_ONCE = 2.0


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with broken_targets(tmp_path_factory.mktemp("tls")) as urls:
        yield urls


@pytest.mark.parametrize("name", PERMANENT)
def test_a_permanent_open_error_stops_every_client_at_once(targets: dict[str, str], name: str) -> None:
    result = asyncio.run(flap(FlapPlan(targets[name], **SUITE_SHAPE)))  # type: ignore[arg-type]
    stop = result.stopped_by
    assert stop is not None and stop.permanent, result.describe_failures()
    assert NAMES_THE_CAUSE[name] in stop.error
    assert result.duration < AT_ONCE, f"{result.duration:.3f} s, {result.attempts} cycles"
    assert result.attempts <= SUITE_SHAPE["clients"]  # at most one cycle per client


def test_a_transient_open_error_flaps_on(targets: dict[str, str]) -> None:
    result = asyncio.run(flap(FlapPlan(targets["http-503"], clients=2, cycles=4, connected=0, disconnected=0)))
    assert result.stopped_by is None
    assert result.failures_by_cause == {"HTTP 503": 8}


def test_a_service_that_turns_reconnects_away_stops_the_run(echo_process: Callable[..., EchoProcess]) -> None:
    """Three handshakes accepted, then HTTP 403: the run stops there, it is not a short run."""
    server = echo_process("--answer-status", "403", "--accept-first", "3")
    result = asyncio.run(flap(FlapPlan(server.url, clients=1, cycles=20, connected=0.01, disconnected=0)))
    assert result.successes == 3 and result.attempts == 4
    assert result.stopped_by is not None and "answered HTTP 403" in result.stopped_by.error


TWENTY_MIB = 20 * 1024 * 1024


def test_a_message_over_the_clients_limit_is_the_clients_doing(echo_process: Callable[..., EchoProcess]) -> None:
    server = echo_process("--send-on-connect", str(TWENTY_MIB))
    plan = FlapPlan(server.url, clients=1, cycles=2, connected=1.0, disconnected=0, max_message_size=1 << 20)
    result = asyncio.run(flap(plan))
    assert result.failures_by_cause == {
        "closed by the client during the connected time: the client's own message size limit (1048576 "
        "bytes) was exceeded by a message from the server (close 1009 sent by the client)": 2}


def test_the_default_limit_takes_a_20_mib_message(echo_process: Callable[..., EchoProcess]) -> None:
    server = echo_process("--send-on-connect", str(TWENTY_MIB))
    result = asyncio.run(flap(FlapPlan(server.url, clients=1, cycles=2, connected=1.0, disconnected=0)))
    assert result.success_rate == 100, result.describe_failures()
