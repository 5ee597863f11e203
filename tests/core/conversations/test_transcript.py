"""The client's transcript of a conversation: the digest it shares with the server, the
expected conversation, and the first difference between two contexts."""

from __future__ import annotations

import pytest

from wsresilience.core.conversations.transcript import Context, Entry, ExpectedConversation, first_difference
from wsresilience.core.conversations.transcript import context_digest as client_digest
from wsresilience.refserver.conversation import AgentState, Message
from wsresilience.refserver.conversation import context_digest as server_digest

# -- the digest and the expected conversation ---------------------------------------------------------


def test_client_and_server_digests_agree_and_see_every_change() -> None:
    messages = [Message(1, "user", "héllo \"quoted\""), Message(2, "agent", "ok")]
    state = AgentState(("tea",), 1)
    entries = tuple(Entry(m.id, m.role, m.text) for m in messages)
    assert server_digest(messages, state) == client_digest(entries, ("tea",), 1)
    assert client_digest(entries, ("tea",), 2) != client_digest(entries, ("tea",), 1)
    assert client_digest(entries, ("coffee",), 1) != client_digest(entries, ("tea",), 1)
    assert client_digest(entries[:1], ("tea",), 1) != client_digest(entries, ("tea",), 1)


def test_the_expected_conversation_predicts_memory_and_step() -> None:
    expected = ExpectedConversation()
    assert expected.record_exchange("remember tea", "Noted") == (1, 2)
    assert expected.record_exchange("hi", "hello") == (3, 4)
    assert expected.context().memory == ("tea",)
    assert expected.context().step == 2


# -- comparing contexts ------------------------------------------------------------------------------


def _context(*texts: str, memory: tuple[str, ...] = (), step: int | None = None) -> Context:
    entries = tuple(Entry(i, "user" if i % 2 else "agent", t) for i, t in enumerate(texts, start=1))
    return Context(entries, memory, len(texts) // 2 if step is None else step)


def test_identical_contexts_have_no_difference() -> None:
    assert first_difference(_context("a", "b"), _context("a", "b")) is None


@pytest.mark.parametrize(
    ("actual", "says"),
    [
        (_context("a"), "is missing: the server returned 1 of 2 entries"),
        (_context("a", "b", "c"), "unexpected extra"),
        (_context("a", "x"), "position 2 differs"),
        (_context("a", "b", memory=("tea",)), "agent memory differs"),
        (_context("a", "b", step=3), "workflow step differs"),
        (Context((Entry(1, "user", "a"), Entry(1, "agent", "b")), (), 1), "duplicated"),
        (Context((Entry(2, "user", "a"), Entry(1, "agent", "b")), (), 1), "out of order"),
    ],
)
def test_the_first_difference_is_named(actual: Context, says: str) -> None:
    difference = first_difference(_context("a", "b"), actual)
    assert difference is not None and says in difference
