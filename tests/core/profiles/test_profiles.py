"""The protocol profiles: packet codecs, auth payloads, and real handshakes with real servers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect

from support import node_servers
from support.echo_server import EchoProcess
from wsresilience.core.profiles import BareChannel, get_profile, profile_names, render_auth_payload
from wsresilience.core.profiles import socketio_packets as sio
from wsresilience.core.profiles.base import Announced, payload_secrets


def test_every_framework_of_the_run_contract_has_a_profile() -> None:
    assert profile_names() == ["graphql-ws", "reference", "rfc6455", "socketio"]


def test_an_unknown_profile_fails_listing_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"Unknown protocol profile 'signalr'; expected one of: graphql-ws, "
                                         r"reference, rfc6455, socketio\."):
        get_profile("signalr")


@pytest.mark.parametrize("url, expected", [
    ("ws://h:1/", "ws://h:1/socket.io/?EIO=4&transport=websocket"),
    ("ws://h:1", "ws://h:1/socket.io/?EIO=4&transport=websocket"),
    ("wss://h/chat/?EIO=3&token=x", "wss://h/chat/?token=x&EIO=4&transport=websocket"),
])
def test_a_socketio_url_gets_its_engine_path_and_query(url: str, expected: str) -> None:
    assert get_profile("socketio").connect_url(url) == expected


def test_socketio_packets_decode_as_the_protocol_documents() -> None:
    chunk = sio.decode('42["chunk",{"seq":1},"offset-1"]')
    assert sio.event_of(chunk) == ("chunk", [{"seq": 1}, "offset-1"])
    assert sio.event_of(sio.decode('42/admin,7["e",1]')) == ("e", [1])
    assert sio.decode('42/admin,7["e",1]').ack_id == 7
    assert sio.decode("2").engine is sio.EnginePacket.PING
    assert sio.decode("not engine.io") is None and sio.decode(b"\x00") is None
    assert sio.connect({"token": "t"}) == '40{"token":"t"}' and sio.connect() == "40"
    assert sio.event("stream", {"n": 3}) == '42["stream",{"n":3}]'


def test_heartbeat_answers_per_profile() -> None:
    assert get_profile("socketio").heartbeat_answer("2") == "3"
    assert get_profile("socketio").heartbeat_answer('42["2"]') is None
    assert get_profile("graphql-ws").heartbeat_answer('{"type":"ping"}') == '{"type": "pong"}'
    assert get_profile("graphql-ws").is_client_pong('{"type":"pong"}')
    assert get_profile("rfc6455").heartbeat_answer("2") is None
    assert not get_profile("socketio").client_pings


def test_the_auth_payload_names_each_user_and_masks_its_secrets() -> None:
    template = '{"token": "letmein", "user": "{user}", "nested": {"who": "{user}-x", "bearer": "{token}"}}'
    assert render_auth_payload(template, 'ali"ce', "tkn") == {
        "token": "letmein", "user": 'ali"ce', "nested": {"who": 'ali"ce-x', "bearer": "tkn"}}
    assert payload_secrets(template) == ["letmein"]
    assert render_auth_payload("", "alice") is None


@pytest.mark.parametrize("template, message", [
    ('{"token": ', "WS_AUTH_PAYLOAD is not valid JSON"),
    ('["letmein"]', "WS_AUTH_PAYLOAD must be a JSON object, got a JSON list"),
])
def test_a_broken_auth_payload_fails_without_repeating_it(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as failure:
        render_auth_payload(template, "alice")
    assert "letmein" not in str(failure.value)


def test_announced_values_looser_than_the_requirement_say_so() -> None:
    assert Announced(0.5, 0.5).looser_than(0.5, 0.5) == ""
    assert Announced(25, 20).looser_than(0.5, 0.5) == (
        "the service announces pingInterval 25000 ms and pingTimeout 20000 ms, looser than the required 500 ms / 500 ms")


@pytest.fixture
def socketio_server() -> Iterator[EchoProcess]:
    reason = node_servers.unavailable()
    if reason:
        pytest.skip(reason)
    with node_servers.running(script=node_servers.SIO_ECHO) as server:
        yield server


def test_a_real_socketio_server_completes_the_handshake_and_echoes(socketio_server: EchoProcess) -> None:
    """Against socket.io 4.8: the open packet's keepalive is read, CONNECT answered with a sid,
    and an event round-trips."""
    profile = get_profile("socketio")

    async def scenario() -> tuple[object, str | bytes]:
        async with connect(profile.connect_url(socketio_server.url.split("/socket.io")[0] + "/")) as ws:
            channel = BareChannel(ws)
            handshake = await profile.handshake(channel, {"token": "x"}, 5)
            await channel.send(sio.event("message", "hello"))
            return handshake, await channel.receive(5)

    handshake, echoed = asyncio.run(scenario())
    assert handshake.announced == Announced(25.0, 20.0)
    assert handshake.session_id
    assert sio.event_of(sio.decode(echoed)) == ("message", ["hello"])
