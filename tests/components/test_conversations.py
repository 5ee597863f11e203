"""The conversation components: names, the deprecated timeout keyword, the getters, registry
misses and the token watch (no server needed: these never touch the network); then the
keywords that check every reply, in suites written here, against real reference servers.

Keywords are called as DynamicCore runs them (by method name), with arguments already of the
types Robot would convert them to."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from assertionengine import AssertionOperator
from robot.api import logger
from support.inline_suites import outcomes, run_inline

from wsresilience.ContextReconnect import ContextReconnect
from wsresilience.core.conversations.session import SessionConversation
from wsresilience.core.masking import Credential

EQUALS = AssertionOperator["=="]


@pytest.fixture
def lib() -> Iterator[ContextReconnect]:
    library = ContextReconnect()
    yield library
    library.ctx.close()


def _conversation(lib: ContextReconnect, name: str, session: str | None) -> SessionConversation:
    conv = SessionConversation(name, "ws://127.0.0.1:9/", Credential(name, f"token-of-{name}"))
    conv.session = session
    lib.ctx.conversations.add(name, conv)
    return conv


def test_the_view_has_the_renamed_resume_keyword_and_not_the_stream_one(lib: ContextReconnect) -> None:
    names = set(lib.get_keyword_names())
    assert "session_resume_should_be_refused" in names
    assert "resume_should_be_refused" not in names
    assert "set_context_timeout" in names


def test_set_context_timeout_is_deprecated_and_sets_the_shared_timeout(
    lib: ContextReconnect, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(logger, "warn", lambda msg, *a, **k: warnings.append(msg))
    old = lib.run_keyword("set_context_timeout", [timedelta(seconds=3)], {})
    assert old == "10 seconds"
    assert lib.ctx.timeout == 3
    assert warnings and "Set Library Timeout" in warnings[0]
    assert "Deprecated" in lib.get_keyword_tags("set_context_timeout")


def test_get_conversation_session_returns_and_asserts(lib: ContextReconnect) -> None:
    _conversation(lib, "alice", "s-1")
    assert lib.run_keyword("get_conversation_session", ["alice"], {}) == "s-1"
    assert lib.run_keyword("get_conversation_session", ["alice", EQUALS, "s-1"], {}) == "s-1"
    with pytest.raises(AssertionError, match="not the session I meant"):
        lib.run_keyword("get_conversation_session", ["alice", EQUALS, "s-2"], {"message": "not the session I meant"})


def test_a_conversation_without_a_session_fails_in_one_line(lib: ContextReconnect) -> None:
    _conversation(lib, "bob", None)
    with pytest.raises(AssertionError, match="Conversation bob has no session."):
        lib.run_keyword("get_conversation_session", ["bob"], {})


def test_an_unknown_conversation_names_the_known_ones(lib: ContextReconnect) -> None:
    _conversation(lib, "alice", "s-1")
    with pytest.raises(ValueError, match="No conversation named 'carol'; known: alice."):
        lib.run_keyword("start_new_session", ["carol"], {})


def test_a_resume_while_still_connected_is_refused_before_anything_is_sent(lib: ContextReconnect) -> None:
    conv = _conversation(lib, "alice", "s-1")
    conv.conn = object()  # type: ignore[assignment]
    with pytest.raises(AssertionError, match="still connected; disconnect it first"):
        lib.run_keyword("resume_conversation", ["alice"], {})
    conv.conn = None


def test_the_token_watch_sees_registered_secrets_and_jwt_shapes(lib: ContextReconnect) -> None:
    lib.ctx.add_secret("a-registered-secret-value")
    for text in ("nothing here", "leaked a-registered-secret-value", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0"):
        lib.ctx.log_message(SimpleNamespace(message=text, level="INFO"))
    with pytest.raises(AssertionError, match="Expected no token in the log; found 2: a test token in a INFO"):
        lib.run_keyword("tokens_should_not_appear_in_the_log", [], {})


def test_created_credentials_are_masked_in_every_message(lib: ContextReconnect) -> None:
    bad = lib.run_keyword("create_malformed_credential", [], {})
    assert bad.token not in str(bad)
    assert lib.ctx.mask(f"sent {bad.token}") == "sent ***"


# -- every reply is checked against docs/protocol.md 7.2 -------------------------------------------------

REPLIES = """\
*** Settings ***
Library           wsresilience.WebSocketResilience
Suite Setup       Start Reference Server    defect=${DEFECT}    ping_interval=0 s
Suite Teardown    Stop Reference Server

*** Test Cases ***
Hold Conversation Checks Each Reply
    ${url}    Get Reference Server Url
    ${user}    Create Test User    holding
    ${chat}    Start Conversation    ${url}    ${user}
    Hold Conversation    ${chat}    remember tea    what do you remember

Reconnect Repeatedly Checks Each Follow-Up Reply
    ${url}    Get Reference Server Url
    ${user}    Create Test User    cycling
    ${chat}    Start Conversation    ${url}    ${user}
    Reconnect Repeatedly    ${chat}    cycles=3    message=cycle {cycle}
"""


def test_replies_as_the_protocol_predicts_pass(tmp_path: Path) -> None:
    _, result = run_inline(tmp_path, REPLIES, {"DEFECT": ""})
    assert {status for status, _ in outcomes(result).values()} == {"PASS"}, outcomes(result)


@pytest.mark.parametrize(("defect", "test", "says"), [
    ("reword-agent-replies", "Hold Conversation Checks Each Reply",
     "message 1 ('remember tea'): the agent's reply differs from docs/protocol.md 7.2: expected #2 agent "
     "'Noted: tea. I remember 1 fact(s).', got #2 agent \"Got it, I'll keep in mind that tea (1 facts so far).\""),
    ("stage-after-step", "Reconnect Repeatedly Checks Each Follow-Up Reply",
     "Cycle 1 of 3: the reply in cycling-"),
    ("stage-after-step", "Reconnect Repeatedly Checks Each Follow-Up Reply",
     "message 1 ('cycle 1'): the agent's reply differs from docs/protocol.md 7.2: expected #2 agent "
     "'[intake] You said: cycle 1', got #2 agent '[clarify] You said: cycle 1'"),
])
def test_the_first_reply_that_differs_fails_the_keyword(tmp_path: Path, defect: str, test: str, says: str) -> None:
    _, result = run_inline(tmp_path, REPLIES, {"DEFECT": defect})
    status, message = outcomes(result)[test]
    assert status == "FAIL" and says in message, message
