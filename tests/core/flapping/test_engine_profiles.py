"""The flapping engine on the framework profiles, against real Socket.IO and graphql-ws servers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from wsresilience.core.flapping.engine import FlapPlan, flap
from wsresilience.core.flapping.session import AgentConvention
from wsresilience.core.profiles import get_profile

from support.profile_servers import GQL_SERVER, SIO_AGENTS, TOKEN, WRONG_TOKEN, Start, starter

@pytest.fixture
def server() -> Iterator[Start]:
    with starter() as start:
        yield start


def plan(url: str, profile: str, token: str, **overrides: object) -> FlapPlan:
    settings: dict[str, object] = {"clients": 3, "cycles": 3, "connected": 0.05, "disconnected": 0.02,
                                   "profile": get_profile(profile),
                                   "auths": [{"token": token, "user": f"user-{i}"} for i in range(3)]}
    return FlapPlan(url, **{**settings, **overrides})


def test_socketio_clients_connect_with_their_users_auth_and_get_one_agent_each(server: Start) -> None:
    sio = server(SIO_AGENTS, "--token", TOKEN)
    result = asyncio.run(flap(plan(sio.url, "socketio", TOKEN, agents=AgentConvention())))
    assert result.successes == result.attempts == 9, result.describe_failures()
    assert [c.agents for c in result.cycles] == [1.0] * 9
    assert all(len(ids) == 1 for ids in result.agent_ids_by_client().values()), result.agent_ids_by_client()


def test_socketio_duplicate_agents_show_in_the_agent_replies(server: Start) -> None:
    sio = server(SIO_AGENTS, "--token", TOKEN, "--duplicate-agents")
    result = asyncio.run(flap(plan(sio.url, "socketio", TOKEN, agents=AgentConvention())))
    assert max(c.agents or 0 for c in result.cycles) == 3  # three cycles, three agents per user


def test_a_refused_socketio_connect_is_a_failed_cycle_with_the_services_cause(server: Start) -> None:
    sio = server(SIO_AGENTS, "--token", TOKEN)
    result = asyncio.run(flap(plan(sio.url, "socketio", WRONG_TOKEN)))
    assert result.failures_by_cause == {"Socket.IO CONNECT refused: invalid token": 9}
    assert result.stopped_by is None  # a refusal is not a permanent open error: the run goes on


def test_held_socketio_clients_answer_every_ping(server: Start) -> None:
    """Pings every 50 ms, 100 ms to answer; each client holds 400 ms: without answers the
    server would drop every cycle."""
    sio = server(SIO_AGENTS, "--token", TOKEN, "--ping-interval", "50", "--ping-timeout", "100")
    result = asyncio.run(flap(plan(sio.url, "socketio", TOKEN, cycles=2, connected=0.4)))
    assert result.successes == result.attempts == 6, result.describe_failures()
    assert all(c.heartbeats >= 3 for c in result.cycles), [c.heartbeats for c in result.cycles]


def test_graphql_ws_clients_send_connection_init_with_their_payload(server: Start) -> None:
    gql = server(GQL_SERVER, "--token", TOKEN)
    assert asyncio.run(flap(plan(gql.url, "graphql-ws", TOKEN))).successes == 9
    refused = asyncio.run(flap(plan(gql.url, "graphql-ws", WRONG_TOKEN)))
    assert refused.failures_by_cause == {"dropped by server during the handshake: 4403 Forbidden": 9}
