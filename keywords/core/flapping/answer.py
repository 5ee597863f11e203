"""A fresh connection right after flapping: connect, authenticate, ask, and time the answer.

:func:`ask_fresh` speaks the reference protocol (``auth``, then ``ask``; see
docs/protocol.md) on a new lightweight connection and returns a :class:`FreshAnswer`:
what came back and how long it took. It judges nothing; the keyword component says
whether the answer was right and in time.

A refused ``auth`` comes back as :attr:`FreshAnswer.refused`; a connection that cannot be
opened or that the server closes raises (``OSError``, ``ConnectionClosed``) for the
component to word.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from wsresilience.core.flapping.engine import FlapPlan, authenticate, open_client


@dataclass(frozen=True)
class FreshAnswer:
    """What a fresh connection got: the reply to its question, or why auth was refused."""

    #: Seconds from starting to connect to the reply (or to the refusal).
    took: float
    #: The ``answer`` or ``error`` message the server sent ({} when auth was refused).
    reply: dict[str, object] = field(default_factory=dict)
    #: The agent ``auth-ok`` named, if it named one.
    agent_id: str | None = None
    #: Why authentication failed (``auth refused: …``); empty when it succeeded.
    refused: str = ""

    def wrong(self, question: str) -> str:
        """Why the reply is not the right answer to ``question``; empty when it is."""
        expected = f"You said: {question}"
        if self.reply.get("type") != "answer" or self.reply.get("text") != expected:
            return f"Expected the answer {expected!r}; got {json.dumps(self.reply)[:200]}."
        if self.agent_id is not None and self.reply.get("agent_id") != self.agent_id:
            return (f"Expected the answer from {self.agent_id} (named in auth-ok); it came from "
                    f"{self.reply.get('agent_id')}.")
        return ""


async def ask_fresh(plan: FlapPlan, token: str, question: str) -> FreshAnswer:
    """Open a connection as ``plan`` says, authenticate with ``token``, ask ``question``.

    Returns at the first ``answer`` or ``error`` message; the connection is closed either way.
    """
    started = time.monotonic()
    ws = await open_client(plan)
    try:
        agent_id, cause = await authenticate(ws, token, plan.open_timeout)
        if cause:
            return FreshAnswer(time.monotonic() - started, agent_id=agent_id, refused=cause)
        await ws.send(json.dumps({"type": "ask", "text": question}))
        while True:
            reply = json.loads(await ws.recv())
            if isinstance(reply, dict) and reply.get("type") in ("answer", "error"):
                return FreshAnswer(time.monotonic() - started, reply, agent_id)
    finally:
        await ws.close()
