"""The conversational agent behind a session: small, deterministic, easy to predict.

A session holds a conversation (numbered messages from the user and the agent) and the
agent's state: the facts it was told to remember and the step its workflow has reached.
The agent's rules are fixed so a test can predict every reply and every state change:

- ``remember <fact>`` adds ``<fact>`` to the memory and says so;
- ``what do you remember`` (or ``recall``) lists the memory in order;
- anything else is acknowledged with the current workflow stage;
- every exchange advances the workflow by one step.

Two seeded defects break the agent (and nothing else): ``reword-agent-replies`` says the
same things in other words, ``stage-after-step`` advances the step before it replies, so a
reply names the stage the exchange leads to instead of the one it happened in. Both keep
the history, memory and step consistent, so only a client that predicts every reply from
docs/protocol.md (section 7.2) can tell.

:func:`context_digest` is the protocol's digest of a context (docs/protocol.md, section 7):
a client that recomputes it from what it saw can tell whether the server's copy is the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from .defects import Defect

#: The workflow's stages; the stage of step ``n`` is ``WORKFLOW[min(n, len - 1)]``.
WORKFLOW = ("intake", "clarify", "plan", "execute", "review", "done")

#: Roles of history entries.
USER, AGENT = "user", "agent"

RECALL_PHRASES = ("what do you remember", "what do you remember?", "recall")


@dataclass(frozen=True)
class Message:
    """One history entry: ``id`` counts from 1 within a session, in order."""

    id: int
    role: str
    text: str

    def to_json(self) -> dict[str, Any]:
        """The entry as the protocol sends it."""
        return {"id": self.id, "role": self.role, "text": self.text}


@dataclass(frozen=True)
class AgentState:
    """What the agent knows (``memory``) and how far its workflow is (``step``)."""

    memory: tuple[str, ...] = field(default_factory=tuple)
    step: int = 0

    @property
    def stage(self) -> str:
        """The workflow stage of the current step."""
        return WORKFLOW[min(self.step, len(WORKFLOW) - 1)]

    def to_json(self) -> dict[str, Any]:
        """The state as the protocol sends it (and the store keeps it)."""
        return {"memory": list(self.memory), "step": self.step, "stage": self.stage}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AgentState:
        """The state from its JSON form."""
        return cls(tuple(str(m) for m in data.get("memory", [])), int(data.get("step", 0)))


def respond(state: AgentState, text: str, defects: Collection[Defect] = ()) -> tuple[str, AgentState]:
    """The agent's reply to ``text`` and its state afterwards (pure and deterministic).

    ``defects`` are the server's seeded defects; only ``reword-agent-replies`` and
    ``stage-after-step`` change what the agent says.
    """
    said = text.strip()
    lowered = said.lower()
    memory = state.memory
    after = AgentState(memory, state.step + 1)
    # The stage a plain reply names: the step this exchange happens in, or (broken) the next.
    stage = after.stage if Defect.STAGE_AFTER_STEP in defects else state.stage
    reworded = Defect.REWORD_AGENT_REPLIES in defects
    if lowered.startswith("remember "):
        fact = said[len("remember "):].strip()
        memory = (*memory, fact)
        reply = (f"Got it, I'll keep in mind that {fact} ({len(memory)} facts so far)." if reworded
                 else f"Noted: {fact}. I remember {len(memory)} fact(s).")
    elif lowered in RECALL_PHRASES:
        listed = ("I recall: " + ", ".join(memory) + "." if reworded else "I remember: " + "; ".join(memory) + ".")
        reply = listed if memory else ("Nothing remembered so far." if reworded else "I remember nothing yet.")
    else:
        reply = f"[{stage}] You wrote: {said}" if reworded else f"[{stage}] You said: {said}"
    return reply, AgentState(memory, after.step)


def context_digest(messages: list[Message], state: AgentState) -> str:
    """``sha256:<hex>`` of the canonical JSON of a context (protocol section 7).

    Canonical form: ``{"memory": [...], "messages": [[id, role, text], ...], "step": n}``
    with sorted keys, no spaces, UTF-8 without escaping.
    """
    return digest_of(",".join(canonical_entry(m) for m in messages), state)


def canonical_entry(message: Message) -> str:
    """One entry as the digest's canonical JSON writes it: ``[id,"role","text"]``."""
    return json.dumps([message.id, message.role, message.text], separators=(",", ":"), ensure_ascii=False)


def wire_entry(message: Message) -> str:
    """One entry as a ``history`` message carries it: ``{"id":1,"role":"user","text":"..."}``.

    The same text ``json.dumps(message.to_json(), separators=(",", ":"))`` gives, so a history
    assembled from these pieces is byte for byte what serialising the whole message gives.
    """
    return json.dumps(message.to_json(), separators=(",", ":"))


def digest_of(canonical_entries: str, state: AgentState) -> str:
    """The context digest from the entries' canonical forms, already joined with commas.

    The canonical JSON is assembled piece by piece in sorted key order (``memory``,
    ``messages``, ``step``): a list's items are written the same whether the list stands
    alone or inside a bigger object, so this is exactly the text :func:`context_digest`
    describes, without serialising every entry again for each digest.
    """
    memory = json.dumps(list(state.memory), separators=(",", ":"), ensure_ascii=False)
    canonical = f'{{"memory":{memory},"messages":[{canonical_entries}],"step":{int(state.step)}}}'
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
