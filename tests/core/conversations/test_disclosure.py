"""What a refusal must not reveal: every frame and the close reason searched for the session's
texts, facts, counts, ids and owner; the reference server's own refusals reveal nothing."""

from __future__ import annotations

import json

import pytest

from wsresilience.core.conversations.disclosure import Undisclosed, disclosures
from wsresilience.core.conversations.transcript import Context, ExpectedConversation

#: The conversation every 001 test holds (resources/thresholds.resource, CONVERSATION).
CONVERSATION = [
    "Hello, I need help planning a product launch",
    "remember the launch date is 14 March",
    "remember the budget is 20000 euros",
    "Which channels should we use?",
    "remember the audience is small businesses",
    "what do you remember",
]
OWNER = "alice-ca3569a1"
SESSION = "s-b08311b1f3079499ca571d756d2a1513"


def _context() -> Context:
    """The client's record after the conversation (replies as docs/protocol.md 7.2 predicts them)."""
    expected = ExpectedConversation()
    for said in CONVERSATION:
        expected.record_exchange(said, {})  # records the prediction; comparing replies is not tested here
    return expected.context()


SECRET = Undisclosed.of(_context(), OWNER)


def _error(code: str, message: str, **extra: object) -> str:
    return json.dumps({"type": "error", "code": code, "message": message, **extra})


def _found(*frames: str | bytes, reason: str = "", known: tuple[str, ...] = ("bob-77", SESSION)) -> list[str]:
    return [f"{d.where} | {d.what}" for d in disclosures(list(frames), reason, SECRET, known)]


#: What the reference server says when it refuses (refserver/features/sessions.py, auth.py).
HEALTHY_REFUSALS = [
    (_error("session-forbidden", "this session belongs to another user"), "session-forbidden"),
    (_error("session-busy", "another connection holds this session"), "session-busy"),
    (_error("session-expired", "the session was unused for longer than its TTL of 4 s and is gone; "
                               "start a new session"), ""),
    (_error("expired-token", "token has expired"), "expired-token"),
    (_error("invalid-token", "token signature does not verify"), "invalid-token"),
    (_error("malformed-token", "token is not a JWT (three dot-separated parts)"), "malformed-token"),
    (_error("invalid-token", "token is not valid: ImmatureSignatureError"), "invalid-token"),
    (_error("unknown-session", "no such session"), ""),
]


@pytest.mark.parametrize(("frame", "reason"), HEALTHY_REFUSALS)
def test_the_reference_servers_refusals_reveal_nothing(frame: str, reason: str) -> None:
    assert _found(frame, reason=reason) == []


def test_the_seeded_leak_is_found_in_the_error_message() -> None:
    last = _context().messages[-1].text
    frame = _error("session-forbidden", f"this session belongs to another user (12 messages, last: {last[:40]!r}…)")
    found = _found(frame, reason="session-forbidden")
    assert "the 'message' of frame 1 (error 'session-forbidden') | history entry #12 (agent)" in found
    assert "the 'message' of frame 1 (error 'session-forbidden') | the history length 12" in found


@pytest.mark.parametrize(("frame", "reveals"), [
    (_error("session-forbidden", "nope", detail={"hint": "Budget is 20000   EUROS"}),
     "the 'detail.hint' of frame 1 (error 'session-forbidden') | history entry #5 (user)"),
    (_error("session-forbidden", "held by alice-ca3569a1"), "the owner's user name"),
    (_error("session-forbidden", "nope", history_len=12), "the 'history_len' of frame 1 (error 'session-forbidden') | "
                                                          "the history length 12"),
    (_error("session-forbidden", "nope", count=3), "the number of remembered facts 3"),
    (_error("session-forbidden", "nope", last_id=7), "history id 7"),
    (_error("session-forbidden", "the session has history: 12"), "the history length 12"),
    (_error("session-forbidden", "step=6"), "the workflow step 6"),
    (_error("session-forbidden", "see entry #7"), "history id 7"),
    (_error("session-forbidden", "nope", **{"the launch date is 14 March": True}),
     "the field name 'the launch date is 14 March' in frame 1 (error 'session-forbidden') | remembered fact 1"),
    ("session-forbidden: which channels should we use?", "frame 1 (not JSON) | history entry #7 (user)"),
    (b"\x00[clarify] You said: Which channels", "frame 1 (not JSON) | history entry #8 (agent)"),
    (json.dumps({"type": "session-preview", "messages": ["the audience is small businesses"]}),
     "the 'messages[0]' of frame 1 (session-preview) | remembered fact 3"),
])
def test_any_part_of_the_session_anywhere_in_a_frame_is_found(frame: str | bytes, reveals: str) -> None:
    found = _found(frame)
    assert any(reveals in f for f in found), found


def test_the_close_reason_is_read_too() -> None:
    assert _found(_error("session-forbidden", "nope"), reason="forbidden: 12 entries") == [
        "the close reason | the history length 12"]


def test_what_the_refused_client_knows_itself_reveals_nothing() -> None:
    own = _error("session-forbidden", f"bob-77 may not resume {SESSION}: remember I was never here")
    assert _found(own, known=("bob-77", SESSION, "remember I was never here")) == []
    assert _found(_error("expired-token", "token of alice-ca3569a1 has expired"), known=(OWNER,)) == []


def test_short_texts_count_as_whole_words_only() -> None:
    secret = Undisclosed.of(Context(memory=("tea",)), None)
    assert [d.what for d in disclosures([_error("x", "no tea for you")], "", secret)] == ["remembered fact 1"]
    assert disclosures([_error("x", "do not steal sessions")], "", secret) == []


def test_the_agents_own_wording_and_unrelated_numbers_reveal_nothing() -> None:
    assert _found(_error("session-forbidden", "I remember: nothing. You said: no."), reason="4403") == []
    assert _found(_error("session-forbidden", "retry in 12 s", status=403)) == []


def test_an_empty_session_has_nothing_to_reveal() -> None:
    assert disclosures([_error("session-forbidden", "0 messages, #1")], "", Undisclosed.of(Context())) == []
