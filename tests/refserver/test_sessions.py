"""The reference server's side of WS-RESILIENCE-001: tokens, the agent, the store, and sessions
over real loopback sockets against an in-process reference server."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from wsresilience.refserver.app import ServerApp
from wsresilience.refserver.auth import SECRET_ENV, TokenRejected, issue_token, verify_token
from wsresilience.refserver.config import ServerConfig
from wsresilience.refserver.conversation import AgentState, context_digest, respond
from wsresilience.refserver.defects import Defect
from wsresilience.refserver.features.sessions import history_message
from wsresilience.refserver.store import IN_MEMORY, SNAPSHOTS_KEPT, SessionStore

SECRET = "unit-test-secret-that-is-long-enough-for-hs256"

# -- tokens ------------------------------------------------------------------------------------


def test_a_valid_token_names_its_user() -> None:
    assert verify_token(SECRET, issue_token(SECRET, "alice")).user == "alice"


def test_an_expired_token_is_rejected_unless_expiry_is_ignored() -> None:
    token = issue_token(SECRET, "alice", ttl=-5)
    with pytest.raises(TokenRejected) as caught:
        verify_token(SECRET, token)
    assert caught.value.code == "expired-token"
    assert verify_token(SECRET, token, check_expiry=False).user == "alice"


def test_a_token_signed_with_another_key_is_invalid_not_malformed() -> None:
    with pytest.raises(TokenRejected) as caught:
        verify_token(SECRET, issue_token("another-secret-of-the-same-length-0123456789", "alice"))
    assert caught.value.code == "invalid-token"


def test_a_tampered_token_is_invalid() -> None:
    header, _, signature = issue_token(SECRET, "alice").split(".")
    body = jwt.utils.base64url_encode(json.dumps({"sub": "admin", "iss": "refserver", "exp": 2**31}).encode())
    with pytest.raises(TokenRejected) as caught:
        verify_token(SECRET, f"{header}.{body.decode()}.{signature}")
    assert caught.value.code == "invalid-token"


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", None, 42])
def test_malformed_tokens_are_malformed(token: object) -> None:
    with pytest.raises(TokenRejected) as caught:
        verify_token(SECRET, token)
    assert caught.value.code == "malformed-token"


def test_rejections_never_quote_the_token() -> None:
    token = issue_token(SECRET, "alice", ttl=-5)
    with pytest.raises(TokenRejected) as caught:
        verify_token(SECRET, token)
    assert token not in str(caught.value)


# -- the agent ---------------------------------------------------------------------------------------


def test_the_agent_is_deterministic_and_remembers() -> None:
    state = AgentState()
    replies = []
    for text in ["hello", "remember tea", "remember 14 March", "what do you remember"]:
        reply, state = respond(state, text)
        replies.append(reply)
    assert replies[0] == "[intake] You said: hello"
    assert replies[3] == "I remember: tea; 14 March."
    assert state == AgentState(("tea", "14 March"), 4)
    assert state.stage == "review"


def _conversation(*defects: Defect) -> tuple[list[str], AgentState]:
    state = AgentState()
    replies = []
    for text in ["hello", "remember tea", "what do you remember", "bye"]:
        reply, state = respond(state, text, defects)
        replies.append(reply)
    return replies, state


def test_a_plain_reply_names_the_stage_of_the_step_it_happens_in() -> None:
    replies, _ = _conversation()
    assert replies == ["[intake] You said: hello", "Noted: tea. I remember 1 fact(s).", "I remember: tea.",
                       "[execute] You said: bye"]


@pytest.mark.parametrize("defect", [Defect.REWORD_AGENT_REPLIES, Defect.STAGE_AFTER_STEP])
def test_the_agent_defects_change_what_it_says_and_nothing_else(defect: Defect) -> None:
    healthy, healthy_state = _conversation()
    broken, broken_state = _conversation(defect)
    assert broken_state == healthy_state
    changed = [i for i, (good, bad) in enumerate(zip(healthy, broken, strict=True)) if good != bad]
    if defect is Defect.STAGE_AFTER_STEP:
        assert changed == [0, 3] and broken[0] == "[clarify] You said: hello"
    else:
        assert changed == [0, 1, 2, 3]


# -- the store ----------------------------------------------------------------------------------------


def test_the_store_keeps_ids_order_and_state_across_a_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "sessions.sqlite3")
    store = SessionStore(path)
    record = store.create("alice", time.time())
    store.append_exchange(record.id, "remember tea", "Noted", AgentState(("tea",), 1), time.time())
    store.append_exchange(record.id, "hi", "hello", AgentState(("tea",), 2), time.time())
    store.close()
    reopened = SessionStore(path)
    assert [m.id for m in reopened.history(record.id)] == [1, 2, 3, 4]
    again = reopened.get(record.id)
    assert again is not None and again.owner == "alice" and again.state == AgentState(("tea",), 2)


def test_an_in_memory_store_forgets_on_reopen() -> None:
    store = SessionStore(IN_MEMORY)
    record = store.create("alice", time.time())
    assert SessionStore(IN_MEMORY).get(record.id) is None


def test_expiry_counts_from_last_use_and_expiring_erases_the_context(tmp_path: Path) -> None:
    store = SessionStore(str(tmp_path / "s.sqlite3"))
    record = store.create("alice", 1000.0)
    store.append_exchange(record.id, "remember tea", "Noted", AgentState(("tea",), 1), 1000.0)
    fresh = store.get(record.id)
    assert fresh is not None
    assert not fresh.expired_at(1004.0, ttl=5)
    assert fresh.expired_at(1005.5, ttl=5)
    store.expire(record.id)
    gone = store.get(record.id)
    assert gone is not None and gone.status == "expired" and gone.state == AgentState()
    assert store.history(record.id) == []


def _assert_snapshot_is_the_disk(store: SessionStore, session_id: str) -> None:
    """The in-memory snapshot says what a fresh read of the database says, in every form."""
    record = store.get(session_id)
    assert record is not None
    on_disk = SessionStore(store.path).history(session_id)
    snapshot = store.snapshot(session_id)
    assert snapshot.messages == on_disk
    assert snapshot.count == len(on_disk)
    assert snapshot.messages_json == json.dumps([m.to_json() for m in on_disk], separators=(",", ":"))
    assert snapshot.digest(record.state) == context_digest(on_disk, record.state)


def test_the_history_snapshot_follows_every_write_to_the_disk(tmp_path: Path) -> None:
    store = SessionStore(str(tmp_path / "s.sqlite3"))
    record = store.create("alice", time.time())
    _assert_snapshot_is_the_disk(store, record.id)  # empty, now kept in memory
    state = AgentState()
    for text in ("remember tea", "héllo \"quoted\" ☃ 😀", "remember ça", "what do you remember"):
        reply, state = respond(state, text)
        store.append_exchange(record.id, text, reply, state, time.time())
        _assert_snapshot_is_the_disk(store, record.id)
    store.drop_last_message(record.id)
    _assert_snapshot_is_the_disk(store, record.id)
    store.clear_history(record.id)
    _assert_snapshot_is_the_disk(store, record.id)
    store.append_exchange(record.id, "again", "ok", AgentState(("tea",), 9), time.time())
    _assert_snapshot_is_the_disk(store, record.id)
    store.expire(record.id)
    _assert_snapshot_is_the_disk(store, record.id)


def test_the_store_keeps_a_bounded_number_of_snapshots(tmp_path: Path) -> None:
    store = SessionStore(str(tmp_path / "s.sqlite3"))
    ids = [store.create("alice", time.time()).id for _ in range(SNAPSHOTS_KEPT + 5)]
    for session_id in ids:
        store.snapshot(session_id)
    assert len(store._snapshots) == SNAPSHOTS_KEPT
    assert ids[0] not in store._snapshots and ids[-1] in store._snapshots


def test_the_history_message_is_what_serialising_it_whole_gives(tmp_path: Path) -> None:
    store = SessionStore(str(tmp_path / "s.sqlite3"))
    record = store.create("alice", time.time())
    state = AgentState()
    for text in ("remember ☃ and 😀", 'a "quote", a \\ and a \n newline'):
        reply, state = respond(state, text)
        store.append_exchange(record.id, text, reply, state, time.time())
    fresh = store.get(record.id)
    assert fresh is not None
    messages = store.history(record.id)
    whole = json.dumps({
        "type": "history",
        "session": record.id,
        "messages": [m.to_json() for m in messages],
        "state": fresh.state.to_json(),
        "digest": context_digest(messages, fresh.state),
    }, separators=(",", ":"))
    assert history_message(fresh, store.snapshot(record.id)) == whole


# -- sessions over real sockets -------------------------------------------------------------------------


class Peer:
    """A bare websockets client speaking the session protocol."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        await self.ws.send(json.dumps(message))
        return json.loads(await asyncio.wait_for(self.ws.recv(), 5))

    async def close_code(self) -> int | None:
        try:
            await asyncio.wait_for(self.ws.recv(), 5)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        return None


async def _peer(url: str, user: str) -> Peer:
    peer = Peer(await connect(url))
    assert (await peer.ask({"type": "auth", "token": issue_token(SECRET, user)}))["type"] == "auth-ok"
    return peer


def _run_with_server(config: ServerConfig, body: Any) -> None:
    async def main() -> None:
        server = ServerApp(config)
        await server.start()
        try:
            await body(server.url)
        finally:
            await server.stop()

    asyncio.run(main())


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)


def _config(tmp_path: Path, *defects: str, ttl: float = 60.0) -> ServerConfig:
    return ServerConfig(port=0, ping_interval=None, close_timeout=1, data_dir=str(tmp_path),
                        session_ttl=ttl, defects=Defect.parse_all(defects))


def test_only_the_owner_may_resume_and_the_intruder_sees_nothing(tmp_path: Path) -> None:
    async def body(url: str) -> None:
        alice = await _peer(url, "alice")
        session = (await alice.ask({"type": "session-start"}))["session"]
        await alice.ask({"type": "chat", "text": "remember the secret plan"})
        await alice.ws.close()
        bob = await _peer(url, "bob")
        refused = await bob.ask({"type": "session-resume", "session": session})
        assert refused == {"type": "error", "code": "session-forbidden",
                           "message": "this session belongs to another user"}
        assert await bob.close_code() == 4403

    _run_with_server(_config(tmp_path), body)


def test_leak_session_in_refusal_quotes_the_session_to_the_intruder(tmp_path: Path) -> None:
    async def body(url: str) -> None:
        alice = await _peer(url, "alice")
        session = (await alice.ask({"type": "session-start"}))["session"]
        await alice.ask({"type": "chat", "text": "remember the secret plan is X"})
        await alice.ws.close()
        bob = await _peer(url, "bob")
        refused = await bob.ask({"type": "session-resume", "session": session})
        assert refused["code"] == "session-forbidden"
        assert refused["message"] == ("this session belongs to another user "
                                      "(2 messages, last: 'Noted: the secret plan is X. I remember '…)")
        assert await bob.close_code() == 4403

    _run_with_server(_config(tmp_path, "leak-session-in-refusal"), body)


def test_a_held_session_refuses_a_second_resume_with_4409(tmp_path: Path) -> None:
    async def body(url: str) -> None:
        first = await _peer(url, "alice")
        session = (await first.ask({"type": "session-start"}))["session"]
        second = await _peer(url, "alice")
        assert (await second.ask({"type": "session-resume", "session": session}))["code"] == "session-busy"
        assert await second.close_code() == 4409
        assert (await first.ask({"type": "chat", "text": "still mine"}))["type"] == "reply"

    _run_with_server(_config(tmp_path), body)


@pytest.mark.parametrize(("defects", "winners"), [((), 1), (("concurrent-resume-race",), 2)])
def test_simultaneous_resumes(tmp_path: Path, defects: tuple[str, ...], winners: int) -> None:
    async def body(url: str) -> None:
        owner = await _peer(url, "alice")
        session = (await owner.ask({"type": "session-start"}))["session"]
        await owner.ws.close()
        peers = [await _peer(url, "alice"), await _peer(url, "alice")]
        answers = await asyncio.gather(*(p.ask({"type": "session-resume", "session": session}) for p in peers))
        assert sum(a["type"] == "session-resumed" for a in answers) == winners

    _run_with_server(_config(tmp_path, *defects), body)


def test_a_session_unused_beyond_its_ttl_is_expired_and_a_new_one_is_clean(tmp_path: Path) -> None:
    async def body(url: str) -> None:
        alice = await _peer(url, "alice")
        session = (await alice.ask({"type": "session-start"}))["session"]
        await alice.ask({"type": "chat", "text": "remember tea"})
        await alice.ws.close()
        await asyncio.sleep(0.5)  # the stimulus: a disconnection longer than the 0.3 s TTL
        again = await _peer(url, "alice")
        assert (await again.ask({"type": "session-resume", "session": session}))["code"] == "session-expired"
        assert (await again.ask({"type": "session-resume", "session": session}))["code"] == "session-expired"
        fresh = await again.ask({"type": "session-start"})
        assert fresh["history_len"] == 0 and fresh["state"]["memory"] == []

    _run_with_server(_config(tmp_path, ttl=0.3), body)


def test_the_context_survives_a_new_server_on_the_same_data_dir(tmp_path: Path) -> None:
    found: dict[str, Any] = {}

    async def before(url: str) -> None:
        alice = await _peer(url, "alice")
        found["session"] = (await alice.ask({"type": "session-start"}))["session"]
        await alice.ask({"type": "chat", "text": "remember tea"})
        found["history"] = await alice.ask({"type": "history"})

    async def after(url: str) -> None:
        alice = await _peer(url, "alice")
        resumed = await alice.ask({"type": "session-resume", "session": found["session"]})
        assert resumed["digest"] == found["history"]["digest"]
        assert await alice.ask({"type": "history"}) == found["history"]

    _run_with_server(_config(tmp_path), before)
    _run_with_server(_config(tmp_path), after)


def test_requests_before_auth_or_session_get_explicit_errors(tmp_path: Path) -> None:
    async def body(url: str) -> None:
        anonymous = Peer(await connect(url))
        assert (await anonymous.ask({"type": "history"}))["code"] == "unauthenticated"
        alice = await _peer(url, "alice")
        assert (await alice.ask({"type": "chat", "text": "hi"}))["code"] == "no-session"
        assert (await alice.ask({"type": "session-resume", "session": "s-nope"}))["code"] == "unknown-session"
        await alice.ask({"type": "session-start"})
        assert (await alice.ask({"type": "chat", "text": ""}))["code"] == "bad-request"

    _run_with_server(_config(tmp_path), body)
