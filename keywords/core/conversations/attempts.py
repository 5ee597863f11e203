"""What a client tries that a server should refuse, from the loop side: the answers, as data.

Each function here makes one attempt on the session protocol (docs/protocol.md, section 7)
and returns what the server did: the replies it sent, in order, and the close code it sent
(if it closed). None of them judge: whether the answer was right is the keyword's call,
and so is the failure's wording. All run on the library's event loop.

- :func:`session_start_answer`: does the target speak the protocol at all?
- :func:`authenticate_with`: a bad token, with a resume and a history request pipelined behind it;
- :func:`resume_as`: resume a conversation's session as its owner (late) or as someone else;
- :func:`race_resumes`: two connections resume one session at the same instant.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from wsresilience.core.client.connection import ObservedConnection
from wsresilience.core.conversations.connection import SessionConnection
from wsresilience.core.conversations.session import Refusal, SessionConversation
from wsresilience.core.masking import Credential
from wsresilience.core.runtime.loop import gather_settled
from wsresilience.errors import ConnectionEnded

#: What an intruder pipelines behind a resume of someone else's session.
INTRUDER_REQUESTS: tuple[dict[str, str], ...] = (
    {"type": "chat", "text": "remember I was never here"},
    {"type": "history"},
)


@dataclass
class Answer:
    """Everything the server sent back to one attempt, and how it closed.

    ``replies`` are the JSON replies the attempt read; ``frames`` every message the server
    sent from the attempt's first request on, as received (read or not, JSON or not).
    """

    replies: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""
    frames: list[str | bytes] = field(default_factory=list)

    @property
    def first(self) -> dict[str, Any]:
        """The first reply (empty if none came)."""
        return self.replies[0] if self.replies else {}


@dataclass
class RaceEntry:
    """One of two racing resumes: the answer (or the error it died of), what followed, the close."""

    outcome: dict[str, Any] | Refusal | BaseException
    later: list[dict[str, Any]]
    close_code: int | None
    close_reason: str = ""
    frames: list[str | bytes] = field(default_factory=list)

    @property
    def won(self) -> bool:
        """Whether the server resumed the session on this connection."""
        return isinstance(self.outcome, dict)


async def session_start_answer(url: str, timeout: float,
                               ssl_context: ssl.SSLContext | None = None,
                               message: dict[str, Any] | None = None) -> dict[str, Any] | str:
    """Send ``session-start`` (or ``message``) unauthenticated; the reply, or why none came (as text).

    A server speaking the protocol answers error ``unauthenticated``.
    """
    probe = SessionConversation("protocol-probe", url, Credential("probe", "", "none"),
                                ssl_context=ssl_context)
    conn = await probe.open_raw(timeout)
    try:
        return await probe.request(conn, message or {"type": "session-start"}, timeout)
    except (ConnectionEnded, TimeoutError) as exc:
        return str(exc)
    finally:
        await conn.close()


async def authenticate_with(url: str, credential: Credential, session: str | None, timeout: float,
                            ssl_context: ssl.SSLContext | None = None) -> Answer:
    """Send ``auth`` with ``credential`` and, without waiting, a resume of ``session`` and a history request.

    Collects up to three replies (one without ``session``) or until the server closes.
    """
    probe = SessionConversation(f"{credential.kind}-token", url, credential, ssl_context=ssl_context)
    conn = await probe.open_raw(timeout)
    conn.secrets.append(credential.token)
    await conn.send(json.dumps({"type": "auth", "token": credential.token}))
    if session is not None:
        await conn.send(json.dumps({"type": "session-resume", "session": session}))
        await conn.send(json.dumps({"type": "history"}))
    replies = await probe.drain_close(conn, timeout, at_most=3 if session is not None else 1)
    answer = Answer(replies, conn.close_code, conn.close_reason, received(conn))
    await conn.close()
    return answer


async def resume_as(
    conv: SessionConversation, credential: Credential | None, after: float, expected_code: str, timeout: float
) -> Answer:
    """Try to resume ``conv``'s session, once its disconnection has lasted ``after`` seconds.

    Without ``credential`` the owner reconnects, and the connection stays the
    conversation's (a new session can follow an expiry); a ``session-forbidden`` or
    ``session-busy`` answer is followed to the close. With ``credential`` (someone else's)
    the attempt runs on a connection of its own that also pipelines a chat and a history
    request (:data:`INTRUDER_REQUESTS`), then is closed. The last leg records the outcome.
    """
    if conv.disconnected_at is not None:
        await asyncio.sleep(max(0.0, conv.disconnected_at + after - time.monotonic()))
    if credential is None:
        conn = await conv.connect(timeout)
    else:
        conn = await conv.open_authenticated(credential, timeout)
    mark = len(received(conn))
    replies = [await conv.request(conn, {"type": "session-resume", "session": conv.session}, timeout)]
    if credential is not None:
        for extra in INTRUDER_REQUESTS:
            if conn.is_open:
                await conn.send(json.dumps(extra))
        replies += await conv.drain_close(conn, timeout, at_most=2)
        answer = Answer(replies, conn.close_code, conn.close_reason, received(conn, mark))
        await conn.close()
    else:
        if expected_code in ("session-forbidden", "session-busy"):
            replies += await conv.drain_close(conn, timeout, at_most=1)
        answer = Answer(replies, conn.close_code, conn.close_reason, received(conn, mark))
    conv.legs[-1].outcome = f"{answer.first.get('type')} {answer.first.get('code', '')}".strip()
    conv.legs[-1].close_code = answer.close_code
    return answer


async def race_resumes(conv: SessionConversation, timeout: float) -> list[RaceEntry]:
    """Two authenticated connections send ``session-resume`` for ``conv`` together.

    Both connect and authenticate first, so the two requests leave at the same instant. A
    sole winner becomes the conversation's connection; every other connection is closed.
    A refused connection is followed to its close, keeping what it was still sent.
    """
    first_leg = len(conv.legs)
    conns = [await conv.open_authenticated(conv.credential, timeout) for _ in range(2)]
    marks = [len(received(c)) for c in conns]
    outcomes = await asyncio.gather(*(conv.resume(timeout, c) for c in conns), return_exceptions=True)
    entries = []
    for i, (conn, outcome, mark) in enumerate(zip(conns, outcomes, marks, strict=True)):
        later = await conv.drain_close(conn, timeout) if isinstance(outcome, Refusal) else []
        entries.append(RaceEntry(outcome, later, conn.close_code, conn.close_reason, received(conn, mark)))
        leg = conv.legs[first_leg + i]
        leg.close_code = conn.close_code
        leg.outcome = "session-resumed" if isinstance(outcome, dict) else f"refused: {getattr(outcome, 'code', outcome)}"
    winners = [c for c, entry in zip(conns, entries, strict=True) if entry.won]
    if len(winners) == 1:
        conv.conn = winners[0]
    for conn in conns:
        if conn is not conv.conn:
            await conn.close()
    return entries


def received(conn: ObservedConnection, since: int = 0) -> list[str | bytes]:
    """Every message ``conn`` received, from the ``since``-th on (see :class:`SessionConnection`)."""
    assert isinstance(conn, SessionConnection)
    return conn.received[since:]


async def close_all(convs: Iterable[SessionConversation]) -> None:
    """Close every conversation's connection, each close given its chance."""
    await gather_settled(*(c.close() for c in convs))
