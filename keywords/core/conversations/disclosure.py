"""What a refused client must not learn about a session, and where a refusal gave it away.

A refusal (a rejected token, someone else's resume, an expired or busy session) must hand
out nothing of the session (docs/protocol.md 7.3.1). A field named ``messages`` or
``state`` is the obvious leak; the quiet one is an error whose *message* says "this
session belongs to another user (4 messages, last: 'Noted: the secret plan is X…')". So
the check here reads *everything* the refused client received: every frame after its
request (each JSON field, keys and values, at any depth; a frame that is not JSON as
text) and the close reason, and looks for what the client knows of the session:

- **texts**: every history entry, every remembered fact, and the owner's user name. A
  text of :data:`MIN_RUN` characters or more is found when any run of :data:`MIN_RUN`
  characters of it appears (quoting a fragment reveals it); a shorter one when it appears
  as a whole word. Case and runs of whitespace are ignored. Runs made only of the agent's
  fixed wording (``. I remember ``, ``] You said: ``) reveal nothing and are skipped.
- **numbers**: the history length (also the last history id), the number of remembered
  facts and the workflow step. A numeric field reveals one when it equals it; a text when
  it is written as a count (``12 messages``, ``history: 12``, ``facts=3``). A history id
  written as one (``#7``, ``id 7``, ``message 7``) reveals itself, and so does a numeric
  field named like an id (``last_id``) holding one.

What the refused client knows without the session is taken out of the texts first: its
own user name, the session id it asked for, the texts it sent itself.

Pure functions, no I/O: the keyword that judges a refusal words the failure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from wsresilience.core.conversations.agent import FIXED_WORDING
from wsresilience.core.conversations.transcript import Context

#: The shortest run of a text that counts as quoting it.
MIN_RUN = 12

_COUNT_WORDS = r"messages?|msgs?|entries|entry|items?|facts?|exchanges?|turns?|steps?|replies|memor(?:y|ies)"
#: ``12 messages``: a number followed by what it counts.
_NUMBER_THEN_WORD = re.compile(rf"(?<![\w.])(\d+)\s*(?:{_COUNT_WORDS})\b")
#: ``history: 12``, ``len=12``, ``facts 3``: a counting word, then a number.
_WORD_THEN_NUMBER = re.compile(
    rf"\b(?:{_COUNT_WORDS}|history(?:_len)?|length|len|count|size|total|step)\W{{0,3}}(\d+)(?![\w.])")
#: ``#7``, ``id 7``, ``id=7``, ``message 7``: a history id.
_ID = re.compile(r"(?:#|\bids?\W{0,3}|\bmessage\s+)(\d+)(?![\w.])")
#: Field names that hold an id.
_ID_FIELD = re.compile(r"(?:^|_)(?:id|ids|seq|index|last)(?:$|_)")


@dataclass(frozen=True)
class Undisclosed:
    """What the client knows of a session that a refusal must not reveal."""

    texts: tuple[tuple[str, str], ...]
    figures: tuple[tuple[str, int], ...]
    last_id: int

    @classmethod
    def of(cls, context: Context, owner: str | None = None) -> Undisclosed:
        """Everything of ``context`` (the client's record of the session) and its ``owner``'s name."""
        texts = [(f"history entry #{m.id} ({m.role})", m.text) for m in context.messages]
        texts += [(f"remembered fact {i}", fact) for i, fact in enumerate(context.memory, start=1)]
        if owner:
            texts.append(("the owner's user name", owner))
        figures = (("the history length", len(context.messages)), ("the number of remembered facts",
                                                                    len(context.memory)),
                   ("the workflow step", context.step))
        return cls(tuple(texts), tuple((label, n) for label, n in figures if n > 0), len(context.messages))


@dataclass(frozen=True)
class Disclosure:
    """One place where a refusal revealed something of the session."""

    where: str  # the 'message' of frame 1 (error 'session-forbidden')
    what: str  # the history length 12
    excerpt: str  # …another user (12 messages, last: 'I remember…


def disclosures(
    frames: Sequence[str | bytes], close_reason: str, secret: Undisclosed, known: Sequence[str] = ()
) -> list[Disclosure]:
    """Every place in ``frames`` and ``close_reason`` that reveals part of ``secret``.

    ``known`` are strings the refused client knows without the session (taken out first).
    """
    finder = _Finder(secret, known)
    found: list[Disclosure] = []
    for number, frame in enumerate(frames, start=1):
        text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
        try:
            message = json.loads(text)
        except ValueError:
            found += finder.in_text(text, f"frame {number} (not JSON)")
            continue
        label = _frame_label(number, message)
        for path, value, is_key in _leaves(message):
            where = label if not path else f"the field name {value!r} in {label}" if is_key \
                else f"the {path!r} of {label}"
            if isinstance(value, str):
                found += finder.in_text(value, where)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                found += finder.in_number(value, path, where)
    if close_reason:
        found += finder.in_text(close_reason, "the close reason")
    return found


class _Finder:
    """The matching rules of the module docstring, prepared once for one session."""

    def __init__(self, secret: Undisclosed, known: Sequence[str]) -> None:
        self.secret = secret
        self.known = sorted({_normal(k) for k in known if k.strip()}, key=len, reverse=True)
        fixed = [phrase.casefold() for phrase in FIXED_WORDING]  # single spaces, kept at the ends
        self.runs: dict[str, list[str]] = {}
        self.words: list[tuple[str, re.Pattern[str]]] = []
        for label, raw in secret.texts:
            text = _normal(raw)
            if len(text) < MIN_RUN:
                if text:
                    self.words.append((label, re.compile(rf"(?<!\w){re.escape(text)}(?!\w)")))
                continue
            for i in range(len(text) - MIN_RUN + 1):
                run = text[i:i + MIN_RUN]
                labels = self.runs.setdefault(run, [])
                if label not in labels and not any(run in phrase for phrase in fixed):
                    labels.append(label)

    def in_text(self, raw: str, where: str) -> list[Disclosure]:
        text = _normal(raw)
        for known in self.known:  # same length, so positions still point into the text
            text = text.replace(known, "\x00" * len(known))
        found: dict[str, str] = {}
        for i in range(len(text) - MIN_RUN + 1):
            for label in self.runs.get(text[i:i + MIN_RUN], ()):
                found.setdefault(label, _excerpt(raw, i))
        for label, pattern in self.words:
            match = pattern.search(text)
            if match and label not in found:
                found[label] = _excerpt(raw, match.start())
        for pattern in (_NUMBER_THEN_WORD, _WORD_THEN_NUMBER):
            for match in pattern.finditer(text):
                for label in self._figures(int(match.group(1))):
                    found.setdefault(label, _excerpt(raw, match.start()))
        for match in _ID.finditer(text):
            if 1 <= int(match.group(1)) <= self.secret.last_id:
                found.setdefault(f"history id {match.group(1)}", _excerpt(raw, match.start()))
        return [Disclosure(where, what, excerpt) for what, excerpt in found.items()]

    def in_number(self, value: float, path: str, where: str) -> list[Disclosure]:
        if value != int(value):
            return []
        labels = self._figures(int(value))
        name = re.sub(r"(\[\d+\])+$", "", path.rsplit(".", 1)[-1]).lower()
        if _ID_FIELD.search(name) and 1 <= value <= self.secret.last_id:
            labels.append(f"history id {int(value)}")
        return [Disclosure(where, label, str(value)) for label in labels]

    def _figures(self, number: int) -> list[str]:
        return [f"{label} {n}" for label, n in self.secret.figures if n == number]


def _normal(text: str) -> str:
    """Case folded, every run of whitespace one space."""
    return " ".join(text.casefold().split())


def _excerpt(raw: str, at: int, width: int = 60) -> str:
    """Up to ``width`` characters of ``raw`` from a little before ``at``.

    ``at`` is a position in the text's normal form, whose whitespace runs are collapsed the
    same way here, so it points at the same place (case folding rarely changes lengths).
    """
    flat = " ".join(raw.split())
    start = max(0, at - 10)
    piece = flat[start:start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")


def _frame_label(number: int, message: object) -> str:
    if isinstance(message, dict):
        kind = message.get("type", "untyped")
        code = f" {message['code']!r}" if isinstance(message.get("code"), str) else ""
        return f"frame {number} ({kind}{code})"
    return f"frame {number} (JSON {type(message).__name__})"


def _leaves(value: object, path: str = "") -> Iterator[tuple[str, object, bool]]:
    """(dotted path, scalar, whether it is a field name) for every field name and scalar in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            yield inner, str(key), True
            yield from _leaves(item, inner)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    else:
        yield path, value, False
