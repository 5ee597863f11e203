"""Conversation context as the client knows it, and how to compare it with the server's.

The client keeps its own record of a conversation: every message it sent and every reply
the protocol's agent must give it (:mod:`~wsresilience.core.conversations.agent` predicts
each one from docs/protocol.md 7.2), numbered as the protocol numbers them, and the agent
state that follows (the facts remembered, the workflow step and stage). Each reply is
compared with the prediction as it arrives (:meth:`ExpectedConversation.record_exchange`):
the first one that reads differently, or reports another state, is named in one line.
After a reconnect, the server's copy (``history``) must be identical to the record: same
ids, same order, same content, same memory, same step and stage. :func:`first_difference`
names the first place where they differ, in one line.

The digest is computed here independently of the server's code, from the protocol's
definition (docs/protocol.md, section 7), so a server bug cannot hide behind shared code.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from wsresilience.core.conversations.agent import AgentState, agent_reply, stage_of
from wsresilience.errors import ProtocolFailure

#: The protocol's roles for history entries.
USER, AGENT = "user", "agent"


class Entry(NamedTuple):
    """One history entry.

    A named tuple rather than a dataclass: a restored history is thousands of entries, read
    back on every reconnect. A tuple is built in a third of the time a frozen dataclass
    takes, and the garbage collector stops tracking a tuple of plain values, so a long
    history does not make every later collection longer.
    """

    id: int
    role: str
    text: str

    def describe(self, excerpt: str | None = None) -> str:
        """``#3 user 'remember tea'``: long text shortened, or ``excerpt`` shown instead (see :func:`contrast`)."""
        text = excerpt if excerpt is not None else self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return f"#{self.id} {self.role} {text!r}"


@dataclass(frozen=True)
class Context:
    """A conversation's history and agent state.

    ``stage`` is the workflow stage the server reported; None in a context the client
    computed, whose stage follows from its step (:func:`~wsresilience.core.conversations.agent.stage_of`).
    """

    messages: tuple[Entry, ...] = ()
    memory: tuple[str, ...] = ()
    step: int = 0
    stage: str | None = None
    #: The digest when whoever built the context already knows it (see :meth:`ExpectedConversation.context`).
    known_digest: str | None = field(default=None, compare=False, repr=False)

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of the canonical JSON form (protocol section 7)."""
        if self.known_digest is not None:
            return self.known_digest
        return context_digest(self.messages, self.memory, self.step)

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Context:
        """The context a ``history`` message carries; fails in one line if malformed."""
        try:
            entries = _entries(message["messages"])
            state = message["state"]
            return cls(entries, tuple(str(f) for f in state["memory"]), int(state["step"]), str(state["stage"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolFailure(
                f"Expected a history message with messages and state; got {_shape(message)} ({exc!r})."
            ) from None


def _entries(messages: Sequence[Any]) -> tuple[Entry, ...]:
    """The entries of a ``history`` message's ``messages`` list.

    Fast path: when every entry already has an int id and str role and text (what JSON
    gives for a well-formed history), the values are taken as they are. Otherwise each
    entry is converted as before (``int``, ``str``), raising the same error at the same
    entry as that conversion does.
    """
    try:
        rows = [(m["id"], m["role"], m["text"]) for m in messages]
    except (KeyError, TypeError):
        rows = None
    if rows is None or not all(type(i) is int and type(r) is str and type(t) is str for i, r, t in rows):
        return tuple(Entry(int(m["id"]), str(m["role"]), str(m["text"])) for m in messages)
    return tuple(map(_as_entry, rows))


#: A 3-tuple as an :class:`Entry`, without ``_make``'s length check (every row has three values).
_as_entry = functools.partial(tuple.__new__, Entry)


def context_digest(messages: tuple[Entry, ...] | list[Entry], memory: tuple[str, ...] | list[str], step: int) -> str:
    """The protocol's context digest."""
    canonical = json.dumps(
        {"memory": list(memory), "messages": [[m.id, m.role, m.text] for m in messages], "step": step},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _canonical_entry(entry: Entry) -> str:
    """One entry as the digest's canonical JSON writes it: ``[id,"role","text"]``."""
    return json.dumps([entry.id, entry.role, entry.text], separators=(",", ":"), ensure_ascii=False)


def _digest_of_pieces(pieces: list[str], memory: list[str], step: int) -> str:
    """:func:`context_digest` from the entries' canonical forms, serialised earlier one by one.

    The canonical JSON has its keys in sorted order (``memory``, ``messages``, ``step``), and
    a list's items are written the same alone or inside a bigger object, so joining the
    pieces gives exactly the text :func:`context_digest` hashes.
    """
    memory_json = json.dumps(list(memory), separators=(",", ":"), ensure_ascii=False)
    canonical = f'{{"memory":{memory_json},"messages":[{",".join(pieces)}],"step":{int(step)}}}'
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Exchange:
    """One exchange as the protocol predicts it: the user's entry, the agent's, the state after."""

    said: Entry
    answer: Entry
    state: AgentState

    @property
    def number(self) -> int:
        """Which message of the session this is (1 for the first ``chat``)."""
        return (self.said.id + 1) // 2


@dataclass
class ExpectedConversation:
    """What the client said, and what the agent must have answered, numbered as the protocol numbers it."""

    entries: list[Entry] = field(default_factory=list)
    memory: list[str] = field(default_factory=list)
    step: int = 0
    # Each recorded entry's canonical form for the digest, serialised once when recorded
    # (``_pieces[i]`` is ``_digested[i]``'s), so a long record is not serialised again at
    # every reconnect. Used only while ``_digested`` is still the record's entries.
    _digested: list[Entry] = field(default_factory=list, init=False, repr=False, compare=False)
    _pieces: list[str] = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def state(self) -> AgentState:
        """The agent's state now."""
        return AgentState(tuple(self.memory), self.step)

    def predict(self, said: str) -> Exchange:
        """The exchange ``said`` must lead to (docs/protocol.md 7.2), without recording it."""
        reply, after = agent_reply(self.state, said)
        user_id = len(self.entries) + 1
        return Exchange(Entry(user_id, USER, said), Entry(user_id + 1, AGENT, reply), after)

    def record_exchange(self, said: str, reply: dict[str, Any]) -> str | None:
        """Compare the server's ``reply`` message to ``said`` with the prediction, then record the prediction.

        Returns None when the reply is exactly what the protocol predicts (its user entry,
        the agent's entry and the state after), or one line naming the first difference:
        which message, what was expected, what came. The record keeps the prediction
        either way, so it stays the protocol's account of the conversation.
        """
        exchange = self.predict(said)
        self.entries += [exchange.said, exchange.answer]
        self._digested += [exchange.said, exchange.answer]
        self._pieces += [_canonical_entry(exchange.said), _canonical_entry(exchange.answer)]
        self.memory = list(exchange.state.memory)
        self.step = exchange.state.step
        return reply_difference(exchange, reply)

    def context(self) -> Context:
        """The context the server must hold now (its digest from the pieces kept as it was recorded)."""
        known = _digest_of_pieces(self._pieces, self.memory, self.step) if self._digested == self.entries else None
        return Context(tuple(self.entries), tuple(self.memory), self.step, known_digest=known)


def reply_difference(exchange: Exchange, reply: dict[str, Any]) -> str | None:
    """One line naming the first way ``reply`` (a ``reply`` message) differs from ``exchange``, or None."""
    where = f"message {exchange.number} ({_short(exchange.said.text)})"
    for field_name, want in (("message", exchange.said), ("reply", exchange.answer)):
        got = reply.get(field_name)
        whose = "the user's entry" if want.role == USER else "the agent's reply"
        if not isinstance(got, dict):
            return f"{where}: {whose} is missing: expected {want.describe()}, got {field_name} = {got!r}"
        try:
            entry = Entry(int(got["id"]), str(got["role"]), str(got["text"]))
        except (KeyError, TypeError, ValueError):
            return f"{where}: {whose} is malformed: expected {want.describe()}, got fields {sorted(got)}"
        if entry == want:
            continue
        if entry.text != want.text:
            expected_text, got_text = contrast(want.text, entry.text)
            return (f"{where}: {whose} differs from docs/protocol.md 7.2: expected {want.describe(expected_text)}, "
                    f"got {entry.describe(got_text)}")
        return f"{where}: {whose} differs: expected {want.describe()}, got {entry.describe()}"
    state = reply.get("state")
    want_state = {"memory": list(exchange.state.memory), "step": exchange.state.step, "stage": exchange.state.stage}
    if not isinstance(state, dict):
        return f"{where}: the reply has no agent state: expected {want_state}, got state = {state!r}"
    for key, want_value in want_state.items():
        if state.get(key) != want_value:
            return (f"{where}: the agent's {key} after the exchange differs from docs/protocol.md 7.2: "
                    f"expected {want_value!r}, got {state.get(key)!r}")
    return None


def contrast(expected: str, got: str, width: int = 56) -> tuple[str, str]:
    """Both texts cut to show where they first differ (``...`` marks what was cut)."""
    at = next((i for i, (a, b) in enumerate(zip(expected, got)) if a != b), min(len(expected), len(got)))
    start = max(0, at - width // 2) if max(len(expected), len(got)) > width else 0

    def cut(text: str) -> str:
        piece = text[start:start + width]
        return ("..." if start else "") + piece + ("..." if start + width < len(text) else "")

    return cut(expected), cut(got)


def first_difference(expected: Context, actual: Context) -> str | None:
    """One line naming the first difference between two contexts, or None if identical."""
    # Each loop below names the first fault in order; it runs only when a whole-tuple check
    # (in C, a thousand times cheaper on a long history) says there is one to name.
    ids = [m.id for m in actual.messages]
    strictly_increasing = ids == sorted(set(ids))
    for position, (before, after) in enumerate(zip(ids, ids[1:]) if not strictly_increasing else (), start=2):
        if after <= before:
            kind = "duplicated" if after == before else "out of order"
            return f"history entry id {after} is {kind} at position {position} (after id {before})"
    same_prefix = actual.messages[:len(expected.messages)] == expected.messages
    for position, want in enumerate(expected.messages if not same_prefix else (), start=1):
        if position > len(actual.messages):
            return (
                f"history entry {want.describe()} is missing: the server returned "
                f"{len(actual.messages)} of {len(expected.messages)} entries"
            )
        got = actual.messages[position - 1]
        if got != want:
            expected_text, got_text = contrast(want.text, got.text)
            return (f"history entry at position {position} differs: expected {want.describe(expected_text)}, "
                    f"got {got.describe(got_text)}")
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
    want_stage = expected.stage if expected.stage is not None else stage_of(expected.step)
    if actual.stage is not None and actual.stage != want_stage:
        return f"agent workflow stage differs: expected {want_stage!r} (step {expected.step}), got {actual.stage!r}"
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


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit - 3] + "...")


def _shape(message: object) -> str:
    if isinstance(message, dict):
        return f"a {message.get('type', 'untyped')!r} message with fields {sorted(message)}"
    return type(message).__name__
