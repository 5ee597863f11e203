"""The client's transcript of a conversation: the digest it shares with the server, the
expected conversation, and the first difference between two contexts."""

from __future__ import annotations

from typing import Any

import pytest

from wsresilience.core.conversations.transcript import Context, Entry, ExpectedConversation, first_difference
from wsresilience.core.conversations.transcript import context_digest as client_digest
from wsresilience.errors import ProtocolFailure
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


def _reply(user_id: int, said: str, answer: str, memory: list[str], step: int, stage: str,
           session: str = "s-1") -> dict[str, Any]:
    """A ``reply`` message as docs/protocol.md 7.1 words it."""
    return {"type": "reply", "session": session, "message": {"id": user_id, "role": "user", "text": said},
            "reply": {"id": user_id + 1, "role": "agent", "text": answer},
            "state": {"memory": memory, "step": step, "stage": stage}}


#: A conversation and the replies docs/protocol.md 7.2 gives it, written out by hand.
SCRIPT = [
    ("Hello", "[intake] You said: Hello", [], "clarify"),
    ("what do you remember", "I remember nothing yet.", [], "plan"),
    ("  Remember the launch is 14 March  ", "Noted: the launch is 14 March. I remember 1 fact(s).",
     ["the launch is 14 March"], "execute"),
    ("remember tea", "Noted: tea. I remember 2 fact(s).", ["the launch is 14 March", "tea"], "review"),
    ("RECALL", "I remember: the launch is 14 March; tea.", ["the launch is 14 March", "tea"], "done"),
    ("what do you remember?", "I remember: the launch is 14 March; tea.", ["the launch is 14 March", "tea"], "done"),
    ("  and now?  ", "[done] You said: and now?", ["the launch is 14 March", "tea"], "done"),
]


def test_the_expected_conversation_predicts_every_reply_and_state() -> None:
    expected = ExpectedConversation()
    for number, (said, answer, memory, stage) in enumerate(SCRIPT, start=1):
        reply = _reply(2 * number - 1, said, answer, memory, number, stage)
        assert expected.record_exchange(said, reply) is None, said
    context = expected.context()
    assert [e.text for e in context.messages[:2]] == ["Hello", "[intake] You said: Hello"]
    assert context.memory == ("the launch is 14 March", "tea")
    assert context.step == len(SCRIPT)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("reply", {"id": 2, "role": "agent", "text": "[intake] You wrote: Hello"},
         "message 1 ('Hello'): the agent's reply differs from docs/protocol.md 7.2: "
         "expected #2 agent '[intake] You said: Hello', got #2 agent '[intake] You wrote: Hello'"),
        ("reply", {"id": 2, "role": "agent", "text": "[clarify] You said: Hello"},
         "expected #2 agent '[intake] You said: Hello', got #2 agent '[clarify] You said: Hello'"),
        ("reply", {"id": 3, "role": "agent", "text": "[intake] You said: Hello"},
         "the agent's reply differs: expected #2 agent '[intake] You said: Hello', got #3 agent"),
        ("message", {"id": 1, "role": "agent", "text": "Hello"}, "the user's entry differs: expected #1 user"),
        ("reply", None, "the agent's reply is missing"),
        ("state", {"memory": [], "step": 1, "stage": "intake"},
         "message 1 ('Hello'): the agent's stage after the exchange differs from docs/protocol.md 7.2: "
         "expected 'clarify', got 'intake'"),
        ("state", {"memory": [], "step": 2, "stage": "clarify"}, "the agent's step after the exchange differs"),
        ("state", {"memory": ["x"], "step": 1, "stage": "clarify"}, "the agent's memory after the exchange differs"),
        ("state", None, "the reply has no agent state"),
    ],
)
def test_the_first_reply_that_differs_is_named(field: str, value: object, says: str) -> None:
    reply = _reply(1, "Hello", "[intake] You said: Hello", [], 1, "clarify")
    reply[field] = value
    difference = ExpectedConversation().record_exchange("Hello", reply)
    assert difference is not None and says in difference, difference


def test_a_long_reply_is_shown_where_it_differs() -> None:
    expected = ExpectedConversation()
    fact = "the launch of the new product line is planned for the fourteenth of March"
    said = f"remember {fact}"
    reply = _reply(1, said, f"Noted: {fact}. I remember 2 fact(s).", [fact], 1, "clarify")
    difference = expected.record_exchange(said, reply)
    assert difference is not None
    assert "expected #2 agent '...teenth of March. I remember 1 fact(s).'" in difference
    assert "got #2 agent '...teenth of March. I remember 2 fact(s).'" in difference


def test_the_record_keeps_the_prediction_when_a_reply_differs() -> None:
    expected = ExpectedConversation()
    reply = _reply(1, "remember tea", "Got it: tea", ["tea"], 1, "clarify")
    assert expected.record_exchange("remember tea", reply) is not None
    assert expected.entries[1].text == "Noted: tea. I remember 1 fact(s)."
    assert expected.context().memory == ("tea",)


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
        (Context(_context("a", "b").messages, (), 1, "intake"), "workflow stage differs: expected 'clarify' (step 1)"),
        (Context((Entry(1, "user", "a"), Entry(1, "agent", "b")), (), 1), "duplicated"),
        (Context((Entry(2, "user", "a"), Entry(1, "agent", "b")), (), 1), "out of order"),
    ],
)
def test_the_first_difference_is_named(actual: Context, says: str) -> None:
    difference = first_difference(_context("a", "b"), actual)
    assert difference is not None and says in difference


def test_a_stage_the_server_reports_for_its_step_is_no_difference() -> None:
    assert first_difference(_context("a", "b"), Context(_context("a", "b").messages, (), 1, "clarify")) is None


def _history(messages: object) -> dict[str, object]:
    return {"type": "history", "messages": messages, "state": {"memory": ["tea"], "step": 2, "stage": "plan"}}


def test_a_history_message_is_read_as_entries_and_state() -> None:
    context = Context.from_message(_history([{"id": 1, "role": "user", "text": "hi"},
                                             {"id": 2, "role": "agent", "text": "hello"}]))
    assert context == Context((Entry(1, "user", "hi"), Entry(2, "agent", "hello")), ("tea",), 2, "plan")
    assert all(type(entry) is Entry for entry in context.messages)


def test_history_values_of_other_types_are_converted_as_text_and_numbers() -> None:
    context = Context.from_message(_history([{"id": "1", "role": 5, "text": 7}, {"id": True, "role": "a", "text": "b"}]))
    assert context.messages == (Entry(1, "5", "7"), Entry(1, "a", "b"))
    assert all(type(entry.id) is int for entry in context.messages)


@pytest.mark.parametrize(
    ("messages", "says"),
    [
        ([{"id": "x", "role": "user", "text": "a"}, {"id": 2}], "ValueError"),  # the first bad entry is named
        ([{"id": 1, "role": "user"}], "KeyError('text')"),
        ("not a list", "TypeError"),
        ([["a", "list"]], "TypeError"),
    ],
)
def test_a_malformed_history_fails_in_one_line_naming_the_first_fault(messages: object, says: str) -> None:
    with pytest.raises(ProtocolFailure) as caught:
        Context.from_message(_history(messages))
    assert "Expected a history message with messages and state" in str(caught.value)
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_the_first_of_several_faults_in_a_long_history_is_named() -> None:
    texts = [f"entry {i}" for i in range(1, 2001)]
    expected = _context(*texts)
    changed = list(expected.messages)
    changed[1500] = Entry(1501, "user", "entry 1501, changed")
    changed[1700] = Entry(1701, "user", "entry 1701, changed")
    assert first_difference(expected, Context(tuple(changed), (), 1000)) is not None
    assert "position 1501 differs" in str(first_difference(expected, Context(tuple(changed), (), 1000)))
    out_of_order = list(expected.messages)
    out_of_order[900], out_of_order[901] = out_of_order[901], out_of_order[900]
    assert "id 901 is out of order at position 902" in str(first_difference(expected, Context(tuple(out_of_order), (), 1000)))
    assert "is missing: the server returned 1999 of 2000" in str(first_difference(expected, Context(expected.messages[:-1], (), 1000)))


def test_the_expected_digest_kept_as_the_record_grows_is_the_protocols() -> None:
    record = ExpectedConversation()
    for said in ("remember tea", "héllo \"quoted\" ☃ 😀", "remember ça", "what do you remember", "\\ and \n"):
        record.record_exchange(said, {})
        context = record.context()
        assert context.known_digest is not None
        assert context.digest == client_digest(context.messages, context.memory, context.step)
        assert context.digest == server_digest([Message(*e) for e in context.messages],
                                               AgentState(context.memory, context.step))


def test_an_expected_record_changed_by_hand_has_its_digest_computed_afresh() -> None:
    record = ExpectedConversation()
    record.record_exchange("hello", {})
    record.entries[0] = Entry(1, "user", "changed")
    context = record.context()
    assert context.known_digest is None
    assert context.digest == client_digest(context.messages, context.memory, context.step)
    given = ExpectedConversation(entries=[Entry(1, "user", "a"), Entry(2, "agent", "b")], step=1)
    given.record_exchange("c", {})
    assert given.context().digest == client_digest(tuple(given.entries), (), 2)
