"""What a flapping run is: its plan, its cycles and the figures a report needs.

:class:`FlapPlan` says what to run (clients, cycles, timing, how clients leave, what the
service speaks and how each client presents itself); :class:`Cycle` is one
connect–hold–disconnect attempt; :class:`FlapResult` holds every cycle and derives the
figures (success rate, handshake latency, failures by cause, agents seen). The engine
(:mod:`wsresilience.core.flapping.engine`) fills them in; nothing here touches a socket.
"""

from __future__ import annotations

import enum
import ssl
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from wsresilience.core.client.limits import DEFAULT_MAX_MESSAGE_SIZE
from wsresilience.core.flapping.session import AgentConvention
from wsresilience.core.profiles import ProtocolProfile, get_profile
from wsresilience.core.runtime.choices import parse_choice
from wsresilience.core.stats import LatencyStats


class Disconnect(enum.StrEnum):
    """How a flapping client leaves."""

    GRACEFUL = "graceful"
    ABORT = "abort"

    @classmethod
    def parse(cls, value: str | Disconnect) -> Disconnect:
        """A disconnect mode from its name, failing with the list of known names."""
        return parse_choice(cls, value, "disconnect mode")


@dataclass(frozen=True)
class FlapPlan:
    """What to run: ``clients`` concurrent clients, each doing ``cycles`` cycles.

    Times are seconds. ``profile`` is what the service speaks (default: the reference
    protocol). On the reference protocol ``tokens`` are sent as the first message (``{"type":
    "auth"}``), client ``i`` using ``tokens[i % len(tokens)]``; empty means plain connections.
    On other profiles client ``i`` presents ``auths[i % len(auths)]`` in the profile's
    handshake (``None``: no payload), and with ``agents`` set asks the service for its agent
    once per cycle (the agent convention). ``max_message_size`` is the largest message a
    client accepts, in bytes.
    """

    url: str
    clients: int = 10
    cycles: int = 50
    connected: float = 0.1
    disconnected: float = 0.05
    jitter: float = 0.0
    seed: int = 0
    disconnect: Disconnect = Disconnect.GRACEFUL
    tokens: Sequence[str] = field(default=(), repr=False)
    open_timeout: float = 5.0
    close_timeout: float = 2.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)
    max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE
    profile: ProtocolProfile = field(default_factory=lambda: get_profile("reference"))
    auths: Sequence[dict[str, Any] | None] = field(default=(), repr=False)
    agents: AgentConvention | None = None

    def __post_init__(self) -> None:
        if self.clients < 1 or self.cycles < 1:
            raise ValueError(f"Expected at least 1 client and 1 cycle, got {self.clients} and {self.cycles}.")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"Jitter must be a fraction in [0, 1), got {self.jitter}.")
        if self.connected < 0 or self.disconnected < 0:
            raise ValueError("Connected and disconnected times must not be negative.")

    @property
    def authenticated(self) -> bool:
        """Whether clients authenticate."""
        return bool(self.tokens) or any(self.auths)

    def auth_of(self, client: int) -> dict[str, Any] | None:
        """The auth payload client ``client`` presents in the profile's handshake."""
        return self.auths[client % len(self.auths)] if self.auths else None

    @property
    def time_budget(self) -> float:
        """Seconds a whole run may take: three times its planned cycles, plus one open and close.

        Generous on purpose: it bounds a run that hangs, it does not judge a slow one.
        """
        per_cycle = (self.connected + self.disconnected) * (1 + self.jitter)
        return self.cycles * per_cycle * 3 + self.open_timeout + self.close_timeout + 10


@dataclass
class Cycle:
    """One connect–hold–disconnect attempt of one client."""

    client: int
    index: int
    started: float
    handshake_ms: float | None = None
    auth_ms: float | None = None
    agent_id: str | None = None
    ok: bool = False
    cause: str = ""
    ended: float = 0.0
    #: The open failed for a reason no reconnect can heal; ``error`` says it in one line.
    permanent: bool = False
    error: str = ""
    #: Agent instances the service said it held for this client's user (agent convention).
    agents: float | None = None
    #: The server's application heartbeats this cycle answered while holding.
    heartbeats: int = 0


@dataclass
class FlapResult:
    """Every cycle of a run, and the figures a report needs."""

    plan: FlapPlan
    started: float
    ended: float = 0.0
    cycles: list[Cycle] = field(default_factory=list)
    #: The cycle whose permanent open error stopped the run (None: the run went to the end).
    stopped_by: Cycle | None = None

    @property
    def attempts(self) -> int:
        """Cycles attempted."""
        return len(self.cycles)

    @property
    def successes(self) -> int:
        """Cycles that connected, authenticated when asked, and held."""
        return sum(1 for c in self.cycles if c.ok)

    @property
    def success_rate(self) -> float:
        """Successful cycles, in percent of attempts (NaN when nothing was attempted)."""
        return 100.0 * self.successes / self.attempts if self.attempts else float("nan")

    @property
    def duration(self) -> float:
        """Seconds from the first connect to the last disconnect."""
        return max(0.0, self.ended - self.started)

    @property
    def cycles_per_s(self) -> float:
        """Attempt rate: cycles attempted per second of the run."""
        return self.attempts / self.duration if self.duration > 0 else float("nan")

    @property
    def handshakes(self) -> LatencyStats:
        """Opening-handshake latency of every cycle that got that far, in ms."""
        return LatencyStats.of([c.handshake_ms for c in self.cycles if c.handshake_ms is not None])

    @property
    def auths(self) -> LatencyStats:
        """Authentication round trip (auth sent → auth-ok) in ms, when clients authenticate."""
        return LatencyStats.of([c.auth_ms for c in self.cycles if c.auth_ms is not None])

    @property
    def failures_by_cause(self) -> dict[str, int]:
        """Failed cycles grouped by cause, most frequent first."""
        return dict(Counter(c.cause for c in self.cycles if not c.ok).most_common())

    def describe_failures(self) -> str:
        """Failed cycles by cause in one line: ``HTTP 503 ×4, auth timeout (5 s) ×1``."""
        return ", ".join(f"{cause} ×{count}" for cause, count in self.failures_by_cause.items())

    @property
    def heartbeats_answered(self) -> int:
        """The server's application heartbeats answered while holding, over every cycle."""
        return sum(c.heartbeats for c in self.cycles)

    @property
    def agent_replies(self) -> list[Cycle]:
        """The cycles in which the service answered the agent convention with a count."""
        return [c for c in self.cycles if c.agents is not None]

    def agent_ids_by_client(self) -> dict[int, set[str]]:
        """Agent ids each client was given by ``auth-ok`` across its cycles."""
        seen: dict[int, set[str]] = {}
        for c in self.cycles:
            if c.agent_id is not None:
                seen.setdefault(c.client, set()).add(c.agent_id)
        return seen
