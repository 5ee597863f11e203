"""The WS-RESILIENCE-006 suite on every protocol profile, run for real with ``WS_URL`` and
``WS_PROTOCOL`` against framework servers (tests/servers/node), healthy and broken:

- Socket.IO 4 (``socketio``): a service with agents, counted by its metrics or by the agent
  convention of its own events; one that creates an agent per connection; one that leaks a
  socket per connection; a plain one without agents; a refused handshake; under pabot;
- graphql-ws 6 (``graphql-ws``): healthy, leaking memory, refusing the handshake;
- a plain ``ws`` 8 server (``rfc6455``): healthy and leaking memory.

Expected verdicts are per criterion. 006.5 (a fresh connection's ask and answer) is
docs/protocol.md's and SKIPs on every profile here; 006.3 SKIPs, with the reason, where the
service has no agents to count.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import node_servers, suite_runner
from support.profile_servers import GQL_SERVER, SIO_AGENTS, TOKEN, WRONG_TOKEN, Start, starter, suite_options

SUITE = "ws_resilience_006_flapping.robot"
#: Smaller runs where only the verdict matters (as in test_006_flapping.py): for broken servers.
#: Healthy Node servers run with the suite's own 006.4 rounds: a V8 heap climbs for hundreds
#: or thousands of connections before it levels off, and five rounds of 150 end on its slope
#: (measured: Socket.IO kept 12.2 KiB per connection over them; the bound is 12).
QUICK = ["--variable", "MEMORY_ROUND_CYCLES:15", "--variable", "SOCKETIO_MEMORY_ROUND_CYCLES:15",
         "--variable", "MEMORY_ROUNDS:5"]
#: The fewest rounds the leak rule takes, of 100 connections (as in test_006_flapping.py).
LEAK_ROUNDS = ["--variable", "MEMORY_ROUNDS:5", "--variable", "MEMORY_ROUND_CYCLES:10"]
#: Each user named in the Socket.IO and graphql-ws handshakes, with the service's token.
AUTH = {"token": TOKEN, "user": "{user}"}

@pytest.fixture
def server() -> Iterator[Start]:
    """Start framework servers (SKIP, saying why, without Node or the packages)."""
    with starter() as start:
        yield start


def run(tmp_path: Path, *options: str) -> suite_runner.RunResult:
    return suite_runner.run(SUITE, tmp_path, options, timeout=400)


def verdicts(**by_criterion: str) -> dict[str, set[str]]:
    """``verdicts(AC_006_1="PASS")`` → ``{"AC-006.1": {"PASS"}}``."""
    return {name.replace("_", "-", 1).replace("_", "."): {status} for name, status in by_criterion.items()}


HEALTHY_WITH_AGENTS = verdicts(AC_006_1="PASS", AC_006_2="PASS", AC_006_3="PASS", AC_006_4="PASS",
                               AC_006_5="SKIP", AC_006_6="PASS")
HEALTHY_WITHOUT_AGENTS = {**HEALTHY_WITH_AGENTS, **verdicts(AC_006_3="SKIP")}


# -- Socket.IO ---------------------------------------------------------------------------------

def test_a_healthy_socketio_service_with_agents_passes(tmp_path: Path, server: Start) -> None:
    """The whole suite, counts and agents from the service's metrics, with the token the
    service checks in every CONNECT."""
    sio = server(SIO_AGENTS, "--token", TOKEN)
    result = run(tmp_path, *suite_options(sio, "socketio", metrics=True, auth=AUTH))
    assert result.by_criterion == HEALTHY_WITH_AGENTS, result.outcomes()
    assert "Protocol profile socketio" in (tmp_path / "output.xml").read_text(encoding="utf-8")


def test_a_socketio_service_leaking_a_socket_per_connection_fails_the_leak_criteria(
        tmp_path: Path, server: Start) -> None:
    """Socket.IO's own connection count comes back at once (006.2 passes, rightly: the
    WebSocket connections are gone), but every connection left two descriptors behind."""
    sio = server(SIO_AGENTS, "--token", TOKEN, "--leak-sockets")
    result = run(tmp_path, *suite_options(sio, "socketio", metrics=True, auth=AUTH), *QUICK)
    assert result.by_criterion == {**HEALTHY_WITH_AGENTS, **verdicts(AC_006_4="FAIL", AC_006_6="FAIL")}, \
        result.outcomes()
    message = result.messages["Abrupt Disconnects Leak Nothing"]
    assert "fds" in message and "baseline" in message, message


@pytest.mark.parametrize("source", ["metrics", "events"])
@pytest.mark.parametrize("broken", [False, True], ids=["one-agent-per-user", "duplicate-agents"])
def test_socketio_agents_per_user_are_judged_by_metrics_or_by_the_convention(
        tmp_path: Path, server: Start, source: str, broken: bool) -> None:
    """006.3 from the agent metrics, or (no METRICS_URL) from the service's replies to the
    agent convention: a service that makes an agent per connection FAILs either way."""
    sio = server(SIO_AGENTS, "--token", TOKEN, *(["--duplicate-agents"] if broken else []))
    result = run(tmp_path, *suite_options(sio, "socketio", metrics=source == "metrics", auth=AUTH),
                 "--include", "AC-006.3")
    assert result.by_criterion == verdicts(AC_006_3="FAIL" if broken else "PASS"), result.outcomes()
    if broken:
        message = result.messages["Each User Keeps At Most One Agent While Flapping"]
        seen = "most at any sample" if source == "metrics" else "agents of one user, most in any agent reply"
        assert seen in message, message


def test_the_agent_convention_is_configured_by_variables(tmp_path: Path, server: Start) -> None:
    """A service whose agent events are named ``whoami``: with the default names it does not
    answer (006.3 SKIPs, naming the convention); renamed by variables, 006.3 runs and PASSes."""
    sio = server(SIO_AGENTS, "--token", TOKEN, "--agent-event", "whoami")
    options = [*suite_options(sio, "socketio", auth=AUTH), "--include", "AC-006.3"]
    default = run(tmp_path / "default", *options)
    assert default.by_criterion == verdicts(AC_006_3="SKIP"), default.outcomes()
    message = default.messages["Each User Keeps At Most One Agent While Flapping"]
    assert "did not answer 'agent' with a 'agent' event" in message and "agent convention" in message, message
    renamed = run(tmp_path / "renamed", *options, "--variable", "AGENT_ASK_EVENT:whoami",
                  "--variable", "AGENT_REPLY_EVENT:whoami")
    assert renamed.by_criterion == verdicts(AC_006_3="PASS"), renamed.outcomes()


def test_a_plain_socketio_server_without_agents_skips_006_3_with_the_reason(tmp_path: Path,
                                                                           server: Start) -> None:
    """sio_echo.js has no agents, no metrics and no auth: flapping and leaks are judged,
    006.3 SKIPs saying it did not answer the convention's event."""
    sio = server(node_servers.SIO_ECHO)
    result = run(tmp_path, *suite_options(sio, "socketio"), "--include", "AC-006.1", "--include", "AC-006.3",
                 "--include", "AC-006.6")
    assert result.by_criterion == verdicts(AC_006_1="PASS", AC_006_3="SKIP", AC_006_6="PASS"), result.outcomes()
    message = result.messages["Each User Keeps At Most One Agent While Flapping"]
    assert "did not answer 'agent'" in message, message


def test_a_refused_socketio_handshake_fails_006_1_naming_the_refusal(tmp_path: Path, server: Start) -> None:
    sio = server(SIO_AGENTS, "--token", TOKEN)
    result = run(tmp_path, *suite_options(sio, "socketio", auth={"token": WRONG_TOKEN, "user": "{user}"}),
                 "--include", "AC-006.1")
    assert result.by_criterion == verdicts(AC_006_1="FAIL"), result.outcomes()
    message = result.messages["Flapping Clients Reconnect Reliably And Quickly"]
    assert "Socket.IO CONNECT refused: invalid token" in message, message
    assert WRONG_TOKEN not in (tmp_path / "log.html").read_text(encoding="utf-8")


def test_held_socketio_clients_answer_the_servers_pings(tmp_path: Path, server: Start) -> None:
    """The service pings every 100 ms and gives up 200 ms later; every client holds 600 ms. A
    client that did not answer would be dropped in every cycle; all cycles succeed."""
    sio = server(SIO_AGENTS, "--token", TOKEN, "--ping-interval", "100", "--ping-timeout", "200")
    result = run(tmp_path, *suite_options(sio, "socketio", auth=AUTH), "--include", "AC-006.1",
                 "--variable", "CONNECTED_TIME:600 ms", "--variable", "FLAP_CYCLES:4",
                 "--variable", "FLAP_JITTER:0%")
    assert result.by_criterion == verdicts(AC_006_1="PASS"), result.outcomes()
    assert "'heartbeats_answered': 0," not in (tmp_path / "output.xml").read_text(encoding="utf-8")


def test_a_socketio_service_keeping_32_kib_per_connection_fails_006_4(tmp_path: Path, server: Start) -> None:
    """With the rounds that pass the healthy service (SOCKETIO_MEMORY_ROUND_CYCLES), a service
    keeping 32 KiB per connection FAILs: its climb never bends."""
    sio = server(SIO_AGENTS, "--token", TOKEN, "--leak-kib", "32")
    result = run(tmp_path, *suite_options(sio, "socketio", auth=AUTH), "--include", "AC-006.4")
    assert result.by_criterion == verdicts(AC_006_4="FAIL"), result.outcomes()
    message = result.messages["Server Memory Does Not Climb Across Flapping Rounds"]
    assert "over 4800 connections" in message, message


# -- graphql-ws --------------------------------------------------------------------------------

def test_a_healthy_graphql_ws_server_passes(tmp_path: Path, server: Start) -> None:
    gql = server(GQL_SERVER, "--token", TOKEN)
    result = run(tmp_path, *suite_options(gql, "graphql-ws", auth=AUTH))
    assert result.by_criterion == HEALTHY_WITHOUT_AGENTS, result.outcomes()
    message = result.messages["Each User Keeps At Most One Agent While Flapping"]
    assert "graphql-ws profile has no named events" in message, message


def test_a_graphql_ws_server_refusing_connection_init_fails_006_1(tmp_path: Path, server: Start) -> None:
    gql = server(GQL_SERVER, "--token", TOKEN)
    result = run(tmp_path, *suite_options(gql, "graphql-ws", auth={"token": WRONG_TOKEN}), "--include", "AC-006.1")
    assert result.by_criterion == verdicts(AC_006_1="FAIL"), result.outcomes()
    message = result.messages["Flapping Clients Reconnect Reliably And Quickly"]
    assert "dropped by server during the handshake: 4403 Forbidden" in message, message


@pytest.mark.parametrize("protocol, script", [("graphql-ws", GQL_SERVER), ("rfc6455", node_servers.WS_ECHO)])
def test_a_server_keeping_256_kib_per_connection_fails_006_4(tmp_path: Path, server: Start, protocol: str,
                                                             script: Path) -> None:
    """The leak rule's fewest rounds, of 100 connections each, on every profile."""
    checks_token = script != node_servers.WS_ECHO
    leaky = server(script, "--leak-kib", "256", *(["--token", TOKEN] if checks_token else []))
    result = run(tmp_path, *suite_options(leaky, protocol, auth=AUTH if checks_token else None),
                 "--include", "AC-006.4", *LEAK_ROUNDS)
    assert result.by_criterion == verdicts(AC_006_4="FAIL"), result.outcomes()
    assert "sustained 2" in result.messages["Server Memory Does Not Climb Across Flapping Rounds"]


# -- plain RFC 6455 ----------------------------------------------------------------------------

def test_a_healthy_ws_server_passes_on_the_rfc6455_profile(tmp_path: Path, server: Start) -> None:
    ws = server(node_servers.WS_ECHO)
    result = run(tmp_path, *suite_options(ws, "rfc6455"))
    assert result.by_criterion == HEALTHY_WITHOUT_AGENTS, result.outcomes()


# -- pabot --------------------------------------------------------------------------------------

def test_pabot_gives_the_same_verdicts_on_socketio(tmp_path: Path, server: Start) -> None:
    """pabot --testlevelsplit with SERVER_COMMAND: every test starts its own Socket.IO service
    (ready once its /socket.io/ URL accepts a WebSocket), so tests running at once never count
    each other's connections. Healthy, then the duplicate agents."""
    def command(*extra: str) -> list[str]:
        line = " ".join(["node", str(SIO_AGENTS), "--port", "{port}", "--token", TOKEN, *extra])
        return ["--variable", f"SERVER_COMMAND:{line}", "--variable", "WS_PROTOCOL:socketio",
                "--variable", "METRICS_URL:http://127.0.0.1:{port}/metrics",
                "--variable", f"WS_AUTH_PAYLOAD:{json.dumps(AUTH)}"]

    healthy = suite_runner.run(SUITE, tmp_path / "healthy", command(), pabot=True, timeout=500)
    assert healthy.by_criterion == HEALTHY_WITH_AGENTS, healthy.outcomes()
    broken = suite_runner.run(SUITE, tmp_path / "broken", [*command("--duplicate-agents"), "--include", "AC-006.3",
                                                           "--include", "AC-006.1"], pabot=True, timeout=400)
    assert broken.by_criterion == verdicts(AC_006_1="PASS", AC_006_3="FAIL"), broken.outcomes()
