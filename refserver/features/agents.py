"""Agents: one live agent instance per authenticated user, shared by that user's connections.

An *agent instance* is the runtime object that answers a user's questions. It is created on
the user's first successful authentication, reused by every later connection of the same
user (so a client that flaps keeps talking to the same agent), and retired once the user
has had no connection for a grace period: ``REFSERVER_AGENT_GRACE`` seconds (environment
variable, default :data:`DEFAULT_GRACE`). A reconnect within the grace period cancels the
retirement. This is the live registry only; persistent conversation state belongs to the
sessions feature.

Protocol (after ``auth``): ``auth-ok`` gains ``"agent_id"``; ``{"type": "ask", "text": T}``
→ ``{"type": "answer", "text": "You said: T", "agent_id": …, "user": …, "turn": n}`` where
``turn`` counts the questions this agent instance has answered. Asking before
authenticating gets the error ``unauthenticated``.

Metrics: ``ws_authenticated_sessions`` (authenticated connections the server holds),
``ws_agent_instances`` (live agents) and ``ws_agent_instances_per_user_max`` (the most
agents any one user has; 1 on a healthy server).

Seeded defect ``duplicate-agents``: every authentication creates a new agent and the
user's previous one is never retired.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..client import Client
from ..defects import Defect
from ..host import ServerHost

#: Seconds an agent outlives its user's last connection, unless the environment says otherwise.
DEFAULT_GRACE = 1.0
GRACE_ENV = "REFSERVER_AGENT_GRACE"
STATE_KEY = "agents"


@dataclass(eq=False)
class AgentInstance:
    """A user's live agent: answers questions, counts the connections using it."""

    id: str
    user: str
    created: float = field(default_factory=time.monotonic)
    connections: int = 0
    turns: int = 0
    retirement: asyncio.TimerHandle | None = None

    def answer(self, text: str) -> str:
        """The agent's answer to ``text`` (deterministic, so a test can check it)."""
        self.turns += 1
        return f"You said: {text}"


class AgentRegistry:
    """Live agent instances by user, with retirement after a grace period."""

    def __init__(self, grace: float, duplicate: bool = False) -> None:
        self.grace = grace
        self.duplicate = duplicate
        self.by_user: dict[str, AgentInstance] = {}
        #: Agents replaced but never retired (seeded defect ``duplicate-agents`` only).
        self.orphans: list[AgentInstance] = []
        self._ids = itertools.count(1)

    def attach(self, user: str) -> AgentInstance:
        """The agent for ``user``'s new connection: the live one, or a new one."""
        agent = self.by_user.get(user)
        if agent is not None and self.duplicate:
            self.orphans.append(agent)
            agent = None
        if agent is None:
            agent = AgentInstance(f"agent-{next(self._ids)}", user)
            self.by_user[user] = agent
        if agent.retirement is not None:
            agent.retirement.cancel()
            agent.retirement = None
        agent.connections += 1
        return agent

    def detach(self, agent: AgentInstance) -> None:
        """A connection using ``agent`` ended; retire it after the grace period if unused."""
        agent.connections = max(0, agent.connections - 1)
        if agent.connections or agent.retirement is not None or agent in self.orphans:
            return
        agent.retirement = asyncio.get_running_loop().call_later(self.grace, self._retire, agent)

    def _retire(self, agent: AgentInstance) -> None:
        agent.retirement = None
        if agent.connections == 0 and self.by_user.get(agent.user) is agent:
            del self.by_user[agent.user]

    @property
    def count(self) -> int:
        """Live agent instances."""
        return len(self.by_user) + len(self.orphans)

    @property
    def most_per_user(self) -> int:
        """The largest number of live agents held for any one user."""
        per_user = Counter(a.user for a in self.orphans)
        per_user.update(self.by_user.keys())
        return max(per_user.values(), default=0)


def grace_from_env() -> float:
    """The grace period from ``REFSERVER_AGENT_GRACE`` (seconds), else the default."""
    raw = os.environ.get(GRACE_ENV, "").strip()
    return float(raw) if raw else DEFAULT_GRACE


def install(server: ServerHost) -> None:
    """Register the ``ask`` message, the agent hooks and the agent metrics."""
    registry = AgentRegistry(grace_from_env(), duplicate=server.config.has(Defect.DUPLICATE_AGENTS))

    async def on_authenticated(client: Client) -> dict[str, Any]:
        previous: AgentInstance | None = client.state.get(STATE_KEY)
        agent = registry.attach(client.user or "")
        if previous is not None:  # re-authenticated on the same connection
            registry.detach(previous)
        client.state[STATE_KEY] = agent
        return {"agent_id": agent.id}

    async def on_disconnected(client: Client) -> None:
        agent: AgentInstance | None = client.state.pop(STATE_KEY, None)
        if agent is not None:
            registry.detach(agent)

    async def ask(client: Client, message: dict[str, Any]) -> None:
        agent: AgentInstance | None = client.state.get(STATE_KEY)
        if agent is None:
            await client.send_error("unauthenticated", "authenticate before asking the agent")
            return
        text = message.get("text")
        if not isinstance(text, str):
            await client.send_error("bad-request", "ask needs a string field 'text'")
            return
        answer = agent.answer(text)
        await client.send_json(
            {"type": "answer", "text": answer, "agent_id": agent.id, "user": agent.user, "turn": agent.turns}
        )

    def authenticated_sessions() -> float:
        return float(sum(1 for c in (*server.clients, *server.leaked) if c.user is not None))

    server.on_authenticated.append(on_authenticated)
    server.on_disconnected.append(on_disconnected)
    server.router.register("ask", ask)
    server.metrics.gauge("ws_authenticated_sessions", "Authenticated WebSocket connections held.",
                         authenticated_sessions)
    server.metrics.gauge("ws_agent_instances", "Live agent instances.", lambda: float(registry.count))
    server.metrics.gauge("ws_agent_instances_per_user_max", "Most live agent instances of any one user.",
                         lambda: float(registry.most_per_user))
