"""The client's message size limit: one library setting, applied by every component that
connects, and named as the client's own when a message from the server exceeds it.

A third-party server (the echo server process, ``--send-on-connect``) sends a 20 MiB message
the moment a connection opens. With the limit at 1 MiB (websockets' default, which the
library used to keep) the client closes with 1009: the failure must say the client's own
limit was exceeded, never that the server terminated or dropped the connection. With the
library's default (64 MiB) the same message is simply received.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from wsresilience.core.client.limits import DEFAULT_MAX_MESSAGE_SIZE
from wsresilience.core.servers.process import ServerProcess
from wsresilience.errors import ResilienceFailure
from wsresilience.WebSocketResilience import WebSocketResilience

from support.echo_server import EchoProcess
from support.inline_suites import outcomes, run_inline

TWENTY_MIB = 20 * 1024 * 1024
CLIENT_LIMIT = ("the client's own message size limit (1048576 bytes) was exceeded by a message from the "
                "server (close 1009 sent by the client)")
#: What a failure must never say when the client's limit was the cause.
BLAMES_THE_SERVER = ("the server terminated", "by server", "dropped by server")


@pytest.fixture
def lib() -> Iterator[WebSocketResilience]:
    library = WebSocketResilience(timeout=timedelta(seconds=5))
    yield library
    library.ctx.close()


@pytest.fixture
def big_sender(echo_process: Callable[..., EchoProcess]) -> EchoProcess:
    """An echo server process that sends 20 MiB as soon as a connection opens."""
    return echo_process("--send-on-connect", str(TWENTY_MIB), "--ping-interval", "0")


def kw(lib: WebSocketResilience, name: str, *args: object, **kwargs: object) -> object:
    return lib.run_keyword(name, list(args), kwargs)


def test_the_default_limit_is_generous_and_the_setting_is_shared(lib: WebSocketResilience) -> None:
    assert kw(lib, "get_max_message_size") == DEFAULT_MAX_MESSAGE_SIZE == 64 * 1024 * 1024
    assert kw(lib, "set_max_message_size", "1 MiB") == DEFAULT_MAX_MESSAGE_SIZE
    assert lib.ctx.max_message_size == kw(lib, "get_max_message_size") == 1 << 20
    assert WebSocketResilience(max_message_size="2 MB").ctx.max_message_size == 2_000_000
    with pytest.raises(ValueError, match="Expected a message size such as"):
        kw(lib, "set_max_message_size", "lots")


def test_heartbeat_names_the_clients_limit_not_the_server(lib: WebSocketResilience, big_sender: EchoProcess) -> None:
    kw(lib, "set_max_message_size", "1 MiB")
    name = kw(lib, "open_heartbeat_connection", big_sender.url)
    with pytest.raises(ResilienceFailure) as info:
        kw(lib, "connections_should_stay_open_for", name, timedelta(seconds=3))
    message = str(info.value)
    assert CLIENT_LIMIT in message and "the client terminated client-1" in message, message
    assert not any(blame in message for blame in BLAMES_THE_SERVER), message


def test_heartbeat_with_the_default_limit_takes_20_mib(lib: WebSocketResilience, big_sender: EchoProcess) -> None:
    name = kw(lib, "open_heartbeat_connection", big_sender.url)
    conn = lib.ctx.connections.get(name)
    assert lib.ctx.run(conn.wait_for(lambda: conn.events.count("message in") == 1, 5), "the message", 6)
    kw(lib, "connections_should_stay_open_for", name, timedelta(milliseconds=300))


def test_flapping_names_the_clients_limit_not_the_server(lib: WebSocketResilience, big_sender: EchoProcess) -> None:
    kw(lib, "set_max_message_size", "1 MiB")
    with pytest.raises(ResilienceFailure) as info:
        kw(lib, "flap_clients", big_sender.url, clients=2, cycles=2, connected=timedelta(seconds=1))
    message = str(info.value)
    assert CLIENT_LIMIT in message, message
    assert "dropped by server" not in message, message


def test_flapping_with_the_default_limit_takes_20_mib(lib: WebSocketResilience, big_sender: EchoProcess) -> None:
    run = kw(lib, "flap_clients", big_sender.url, clients=2, cycles=2, connected=timedelta(seconds=1))
    assert run["successes"] == 4, run  # type: ignore[index]


def test_a_stream_names_the_clients_limit(lib: WebSocketResilience, quiet_refserver: ServerProcess) -> None:
    """The reference server's chunks are at most 256 KiB: a 16 KiB chunk against an 8 KiB limit."""
    kw(lib, "set_max_message_size", "8 KiB")
    kw(lib, "connect_to_stream_service", quiet_refserver.url)
    kw(lib, "start_stream", "big", size=65536, chunk_size=16384, interval=timedelta(milliseconds=50))
    with pytest.raises(ResilienceFailure) as info:
        kw(lib, "wait_until_streams_complete", "big", timeout=timedelta(seconds=2))
    message = str(info.value)
    assert ("the connection ended: the client's own message size limit (8192 bytes) was exceeded by a "
            "message from the server (close 1009 sent by the client)") in message, message


def test_a_conversation_names_the_clients_limit(lib: WebSocketResilience, quiet_refserver: ServerProcess) -> None:
    kw(lib, "set_max_message_size", "16")  # bytes: even auth-ok is longer
    user = kw(lib, "create_test_user", "small")
    with pytest.raises(Exception) as info:  # noqa: B017 - the wording is what is tested
        kw(lib, "start_conversation", quiet_refserver.url, user)
    assert "the client's own message size limit (16 bytes) was exceeded" in str(info.value), str(info.value)


SUITE = """*** Settings ***
Resource    {resources}/target.resource

*** Test Cases ***
The Run Contract Sets The Client's Limit
    ${{size}} =    Get Max Message Size
    Should Be Equal As Integers    ${{size}}    ${{EXPECTED}}
"""


@pytest.mark.parametrize(("given", "expected"), [(None, DEFAULT_MAX_MESSAGE_SIZE), ("3 MiB", 3 << 20)])
def test_ws_max_message_size_reaches_the_library(tmp_path: Path, given: str | None, expected: int) -> None:
    from support import REPO

    variables: dict[str, object] = {"EXPECTED": expected}
    if given is not None:
        variables["WS_MAX_MESSAGE_SIZE"] = given
    rc, result = run_inline(tmp_path, SUITE.format(resources=REPO / "resources"), variables)
    assert rc == 0, outcomes(result)
