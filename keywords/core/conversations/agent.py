"""The agent of docs/protocol.md section 7.2, as a client predicts it.

The protocol's agent is deterministic so that a test can say, before the server answers,
what the reply must read and what state the agent must report:

- ``remember <fact>`` keeps ``<fact>``: ``Noted: <fact>. I remember N fact(s).``;
- ``what do you remember`` (or ``recall``) lists the memory: ``I remember: a; b.``, or
  ``I remember nothing yet.``;
- anything else is acknowledged with the stage of the step the exchange happens in:
  ``[intake] You said: hello``;
- every exchange advances the workflow ``step`` by one, and the stage follows the step
  (``intake, clarify, plan, execute, review, done``, the last one kept from step 5 on).

This module is written from the protocol, not from the reference server's code
(``refserver/conversation.py``), on purpose: a rule both sides shared could be wrong on both
sides at once, and no test would notice. A server whose replies read differently, or that
names the wrong stage, shows up here as the first reply that differs from the prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The workflow's stages, in order (docs/protocol.md 7.2).
WORKFLOW = ("intake", "clarify", "plan", "execute", "review", "done")

#: Whole messages (trimmed, any case) that ask the agent to list its memory.
RECALL_PHRASES = ("what do you remember", "what do you remember?", "recall")

#: The word that makes the agent keep a fact (any case, followed by a space).
REMEMBER = "remember "

#: The agent's own wording around what it was told: a run of characters within one of
#: these says nothing about a conversation (see :mod:`~wsresilience.core.conversations.disclosure`).
FIXED_WORDING = ("Noted: ", ". I remember ", " fact(s).", "I remember: ", "I remember nothing yet.",
                 *(f"[{stage}] You said: " for stage in WORKFLOW))


def stage_of(step: int) -> str:
    """The stage the workflow is in at ``step``: ``WORKFLOW[min(step, 5)]``."""
    return WORKFLOW[min(max(step, 0), len(WORKFLOW) - 1)]


@dataclass(frozen=True)
class AgentState:
    """What the agent knows (``memory``) and how far its workflow is (``step``)."""

    memory: tuple[str, ...] = ()
    step: int = 0

    @property
    def stage(self) -> str:
        """The stage of the current step."""
        return stage_of(self.step)


def remembered_fact(said: str) -> str | None:
    """The fact ``remember <fact>`` asks the agent to keep, or None for any other message."""
    text = said.strip()
    if text.lower().startswith(REMEMBER):
        return text[len(REMEMBER):].strip()
    return None


def agent_reply(state: AgentState, said: str) -> tuple[str, AgentState]:
    """The reply docs/protocol.md 7.2 says the agent gives to ``said``, and its state after.

    | >>> agent_reply(AgentState(), "hello")
    | ('[intake] You said: hello', AgentState(memory=(), step=1))
    """
    text = said.strip()
    after = AgentState(state.memory, state.step + 1)
    fact = remembered_fact(said)
    if fact is not None:
        memory = (*state.memory, fact)
        return f"Noted: {fact}. I remember {len(memory)} fact(s).", AgentState(memory, after.step)
    if text.lower() in RECALL_PHRASES:
        if not state.memory:
            return "I remember nothing yet.", after
        return "I remember: " + "; ".join(state.memory) + ".", after
    return f"[{state.stage}] You said: {text}", after
