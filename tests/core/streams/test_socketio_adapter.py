"""The Socket.IO stream adapter on recorded wire messages: the event convention, the pid and
offset it remembers, the CONNECT it sends back, and socket.io-client's ``recovered`` rule."""

from __future__ import annotations

import json

import pytest

from wsresilience.core.streams.adapter import (
    ChunkIn,
    Connected,
    Ended,
    EventConvention,
    Reply,
    Started,
    StreamRequest,
    UnexpectedMessage,
    adapter_for_profile,
)
from wsresilience.core.streams.recovery import missing
from wsresilience.core.streams.socketio import SocketIoStreamAdapter
from wsresilience.core.streams.tracked import TrackedStream

OPEN = '0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'


def chunk(seq: int, offset: str | None = None, name: str = "chunk") -> str:
    args: list[object] = [name, {"id": "s1", "seq": seq, "data": f"d{seq}"}]
    return "42" + json.dumps(args + ([offset] if offset else []))


def connected(adapter: SocketIoStreamAdapter, answer: str) -> list[object]:
    assert adapter.parse(OPEN)[0] == Reply(adapter.connect_message())
    return adapter.parse(answer)


def test_the_first_connection_sends_the_auth_and_learns_the_pid() -> None:
    adapter = SocketIoStreamAdapter(auth={"token": "t"})
    assert adapter.parse(OPEN) == [Reply('40{"token":"t"}')]
    (event,) = adapter.parse('40{"sid":"a","pid":"P1"}')
    assert isinstance(event, Connected) and event.recovered is None and adapter.pid == "P1"


def test_the_convention_becomes_start_chunk_and_end_and_the_offset_is_kept() -> None:
    adapter = SocketIoStreamAdapter()
    connected(adapter, '40{"sid":"a","pid":"P1"}')
    assert adapter.start_message(StreamRequest(size=2000, chunk_size=500), "answer-1") == \
        '42["stream",{"n":4,"size":500}]'
    assert adapter.parse(chunk(1, "o1")) == [Started("answer-1", "s1"), ChunkIn("s1", 1, "d1")]
    assert adapter.parse(chunk(2, "o2")) == [ChunkIn("s1", 2, "d2")]
    assert adapter.parse('42["end",{"id":"s1","n":2,"sha256":"ab"},"o3"]') == [Ended("s1", 2, "ab")]
    assert adapter.offset == "o3"
    assert adapter.parse('42["other",{"x":1},"o4"]') == [] and adapter.offset == "o4"
    assert adapter.parse("2") == [Reply("3")]


def test_a_reconnect_sends_pid_and_offset_and_is_recovered_only_with_the_same_pid() -> None:
    adapter = SocketIoStreamAdapter(auth={"user": "main"})
    connected(adapter, '40{"sid":"a","pid":"P1"}')
    adapter.parse(chunk(1, "o1"))
    assert json.loads(adapter.connect_message()[2:]) == {"pid": "P1", "offset": "o1", "user": "main"}
    # The server replays missed events before its CONNECT answer: held, then released after it.
    assert adapter.parse(OPEN) == [Reply('40{"pid":"P1","offset":"o1","user":"main"}')]
    assert adapter.parse(chunk(2, "o2")) == []
    first, replayed = adapter.parse('40{"sid":"a","pid":"P1"}')
    assert isinstance(first, Connected) and first.recovered is True
    assert replayed == ChunkIn("s1", 2, "d2") and adapter.offset == "o2"
    adapter.parse(OPEN)
    (answer,) = adapter.parse('40{"sid":"b","pid":"P2"}')
    assert answer.recovered is False and "new pid" in answer.detail


def test_without_a_pid_recovery_is_off_and_the_reconnect_is_a_new_session() -> None:
    adapter = SocketIoStreamAdapter()
    (first,) = connected(adapter, '40{"sid":"a"}')
    assert first.recovered is None and "recovery is off" in first.detail
    assert adapter.parse('42["chunk",{"id":"s1","seq":1,"data":"x"}]')[-1] == ChunkIn("s1", 1, "x")
    (again,) = connected(adapter, '40{"sid":"b"}')
    assert again.recovered is False and "recovery is off" in again.detail


def test_no_event_before_the_cut_means_no_offset_to_resume_from() -> None:
    adapter = SocketIoStreamAdapter()
    connected(adapter, '40{"sid":"a","pid":"P1"}')
    assert adapter.connect_message() == '40{"pid":"P1"}'
    (answer,) = connected(adapter, '40{"sid":"b","pid":"P2"}')
    assert "no offset to resume from" in answer.detail


def test_renamed_events_and_protocol_breaches() -> None:
    adapter = SocketIoStreamAdapter(EventConvention("generate", "token", "done"))
    connected(adapter, '40{"sid":"a","pid":"P1"}')
    assert adapter.start_message(StreamRequest(size=10, chunk_size=10), "r-1").startswith('42["generate"')
    assert adapter.parse(chunk(1, "o1")) == []  # 'chunk' is not this service's event
    assert adapter.parse(chunk(1, "o2", name="token"))[1] == ChunkIn("s1", 1, "d1")
    with pytest.raises(UnexpectedMessage, match="'token' event with a missing or bad field"):
        adapter.parse('42["token",{"id":"s1"},"o3"]')
    with pytest.raises(UnexpectedMessage, match="CONNECT_ERROR \\(not authorized\\)"):
        adapter.parse('44{"message":"not authorized"}')
    with pytest.raises(UnexpectedMessage, match="not Engine.IO"):
        adapter.parse("hello")


def test_what_the_convention_cannot_ask_for_is_named() -> None:
    adapter = SocketIoStreamAdapter()
    assert adapter.cannot_express(StreamRequest()) is None
    assert "text chunks only" in (adapter.cannot_express(StreamRequest(kind="json")) or "")
    assert "no resume window" in (adapter.cannot_express(StreamRequest(window_ms=500)) or "")


def test_each_session_gets_its_own_adapter_and_the_profile_finds_it() -> None:
    adapter = adapter_for_profile("socketio", EventConvention(), {"user": "main"})
    assert isinstance(adapter, SocketIoStreamAdapter) and adapter.auth == {"user": "main"}
    assert adapter.for_session() is not adapter
    assert adapter_for_profile("rfc6455", EventConvention(), None) is None


def test_lost_seqs_are_those_not_received_up_to_the_count_asked_for() -> None:
    stream = TrackedStream("answer", StreamRequest(size=2000, chunk_size=500))
    for seq in (1, 2):
        stream.assembly.add(seq, "x")
    assert missing(stream) == [3, 4]
