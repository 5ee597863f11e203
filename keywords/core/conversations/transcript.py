"""Conversation context as the client knows it, and how to compare it with the server's.

The client keeps its own record of a conversation: every message it sent, every reply it
received (with the ids the protocol gives them), and the agent state it can predict from
what it said (``remember <fact>`` adds a fact; every exchange advances the workflow one
step). After a reconnect, the server's copy (``history``) must be identical: same ids,
same order, same content, same memory, same step. :func:`first_difference` names the
first place where they differ, in one line.

The digest is computed here independently of the server's code, from the protocol's
definition (docs/protocol.md, section 7), so a server bug cannot hide behind shared code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from wsresilience.errors import ProtocolFailure

#: The protocol's roles for history entries.
USER, AGENT = "user", "agent"


@dataclass(frozen=True)
class Entry:
    """One history entry."""

    id: int
    role: str
    text: str

    def describe(self) -> str:
        """``#3 user 'remember tea'`` (long text shortened)."""
        text = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return f"#{self.id} {self.role} {text!r}"


@dataclass(frozen=True)
class Context:
    """A conversation's history and agent state."""

    messages: tuple[Entry, ...] = ()
    memory: tuple[str, ...] = ()
    step: int = 0

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of the canonical JSON form (protocol section 7)."""
        return context_digest(self.messages, self.memory, self.step)

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Context:
        """The context a ``history`` message carries; fails in one line if malformed."""
        try:
            entries = tuple(Entry(int(m["id"]), str(m["role"]), str(m["text"])) for m in message["messages"])
            state = message["state"]
            return cls(entries, tuple(str(f) for f in state["memory"]), int(state["step"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolFailure(
                f"Expected a history message with messages and state; got {_shape(message)} ({exc!r})."
            ) from None


def context_digest(messages: tuple[Entry, ...] | list[Entry], memory: tuple[str, ...] | list[str], step: int) -> str:
    """The protocol's context digest."""
    canonical = json.dumps(
        {"memory": list(memory), "messages": [[m.id, m.role, m.text] for m in messages], "step": step},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class ExpectedConversation:
    """What the client said and heard, numbered as the protocol numbers it."""

    entries: list[Entry] = field(default_factory=list)
    memory: list[str] = field(default_factory=list)
    step: int = 0

    def record_exchange(self, said: str, reply_text: str) -> tuple[int, int]:
        """Record one exchange; returns the ids the server must have given it."""
        user_id = len(self.entries) + 1
        self.entries.append(Entry(user_id, USER, said))
        self.entries.append(Entry(user_id + 1, AGENT, reply_text))
        fact = remembered_fact(said)
        if fact is not None:
            self.memory.append(fact)
        self.step += 1
        return user_id, user_id + 1

    def context(self) -> Context:
        """The context the server must hold now."""
        return Context(tuple(self.entries), tuple(self.memory), self.step)


def remembered_fact(said: str) -> str | None:
    """The fact ``remember <fact>`` asks the agent to keep (the agent's one memory rule)."""
    text = said.strip()
    if text.lower().startswith("remember "):
        return text[len("remember "):].strip()
    return None


def first_difference(expected: Context, actual: Context) -> str | None:
    """One line naming the first difference between two contexts, or None if identical."""
    ids = [m.id for m in actual.messages]
    for position, (before, after) in enumerate(zip(ids, ids[1:]), start=2):
        if after <= before:
            kind = "duplicated" if after == before else "out of order"
            return f"history entry id {after} is {kind} at position {position} (after id {before})"
    for position, want in enumerate(expected.messages, start=1):
        if position > len(actual.messages):
            return (
                f"history entry {want.describe()} is missing: the server returned "
                f"{len(actual.messages)} of {len(expected.messages)} entries"
            )
        got = actual.messages[position - 1]
        if got != want:
            return f"history entry at position {position} differs: expected {want.describe()}, got {got.describe()}"
    if len(actual.messages) > len(expected.messages):
        extra = actual.messages[len(expected.messages)]
        return (
            f"the server returned {len(actual.messages) - len(expected.messages)} unexpected extra "
            f"entries, the first {extra.describe()} at position {len(expected.messages) + 1}"
        )
    if actual.memory != expected.memory:
        return f"agent memory differs: expected {list(expected.memory)}, got {list(actual.memory)}"
    if actual.step != expected.step:
        return f"agent workflow step differs: expected {expected.step}, got {actual.step}"
    return None


def context_difference(expected: Context, actual: Context, digest: str) -> str | None:
    """:func:`first_difference`, then the server's ``digest`` against the one computed here.

    Two contexts can agree entry by entry and still differ in what the server hashed (a
    field the history does not show); the digest catches that.
    """
    difference = first_difference(expected, actual)
    if difference is None and digest != expected.digest:
        difference = f"context digest differs: expected {expected.digest}, the server sent {digest}"
    return difference


#: Fields whose presence in a reply means session data was handed out.
SESSION_DATA_FIELDS = ("messages", "state", "digest", "history_len", "reply")


def session_data_in(message: dict[str, Any]) -> list[str]:
    """The session-data fields a server message carries (empty for a plain error)."""
    return [f for f in SESSION_DATA_FIELDS if f in message]


def _shape(message: object) -> str:
    if isinstance(message, dict):
        return f"a {message.get('type', 'untyped')!r} message with fields {sorted(message)}"
    return type(message).__name__
