"""The agent the client predicts (docs/protocol.md 7.2), written apart from the reference server's:
the two must agree on every reply and state of a healthy conversation, and the client's must
tell a broken agent apart."""

from __future__ import annotations

import pytest

from wsresilience.core.conversations.agent import AgentState, agent_reply, remembered_fact, stage_of
from wsresilience.refserver import conversation as server
from wsresilience.refserver.defects import Defect

#: Every rule of section 7.2, in several cases and spacings, over more steps than there are stages.
MESSAGES = [
    "Hello", "what do you remember", "remember tea", "  REMEMBER  the launch is 14 March  ", "Recall",
    "what do you remember?", "remembering is hard", "remember", "  spaced out  ", "what do you remember ?",
    "remember 20000 euros", "recall",
]


def _talk(reply: object, state: object) -> list[tuple[str, tuple[str, ...], int]]:
    seen = []
    for text in MESSAGES:
        said, state = reply(state, text)  # type: ignore[operator]
        seen.append((said, tuple(state.memory), state.step))  # type: ignore[attr-defined]
    return seen


def test_the_client_predicts_every_reply_the_reference_agent_gives() -> None:
    assert _talk(agent_reply, AgentState()) == _talk(server.respond, server.AgentState())


@pytest.mark.parametrize("defect", [Defect.REWORD_AGENT_REPLIES, Defect.STAGE_AFTER_STEP])
def test_a_broken_reference_agent_is_told_apart(defect: Defect) -> None:
    broken = _talk(lambda state, text: server.respond(state, text, (defect,)), server.AgentState())
    assert _talk(agent_reply, AgentState()) != broken


def test_the_rules_as_the_protocol_words_them() -> None:
    assert agent_reply(AgentState(), "  hi  ") == ("[intake] You said: hi", AgentState((), 1))
    assert agent_reply(AgentState(("a", "b"), 7), "recall") == ("I remember: a; b.", AgentState(("a", "b"), 8))
    assert agent_reply(AgentState((), 2), "What do you remember?")[0] == "I remember nothing yet."
    assert agent_reply(AgentState(("a",), 3), "remember  b ")[0] == "Noted: b. I remember 2 fact(s)."
    assert remembered_fact("remember") is None and remembered_fact("Remember x") == "x"
    assert [stage_of(step) for step in (0, 1, 4, 5, 9)] == ["intake", "clarify", "review", "done", "done"]
