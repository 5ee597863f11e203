"""Seeded defects: named ways to break the reference server on purpose.

Each one breaks specific acceptance criteria (see docs/acceptance.md); the suites must fail
exactly those when the server runs with it.

The names are parsed once, when the server's configuration is built (``Defect.parse``), so
an unknown name fails the start with the list of known ones. Inside the server a defect is
always a :class:`Defect` member: ``config.has(Defect.NO_KEEPALIVE)``. A misspelt member
raises ``AttributeError`` (and linters flag it), where a misspelt string silently never
matched.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum


class UnknownDefect(ValueError):
    """A defect name the server does not know."""


class Defect(str, Enum):
    """A seeded defect; its value is the name given to ``--defect``."""

    description: str

    def __new__(cls, name: str, description: str) -> Defect:
        member = str.__new__(cls, name)
        member._value_ = name
        member.description = description
        return member

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, name: str | Defect) -> Defect:
        """The defect called ``name``; an unknown name raises with the list of known names."""
        try:
            return cls(name)
        except ValueError:
            known = ", ".join(sorted(DEFECTS))
            raise UnknownDefect(f"Unknown defect {name!r}; known defects: {known}.") from None

    @classmethod
    def parse_all(cls, names: Iterable[str | Defect]) -> tuple[Defect, ...]:
        """Every name parsed, in the order given (see :meth:`parse`)."""
        return tuple(cls.parse(name) for name in names)

    # WS-RESILIENCE-007
    NO_KEEPALIVE = "no-keepalive", "server never pings (breaks 007.1, 007.2)"
    SLOW_REAPER = "slow-reaper", "server terminates zombies three times later than configured (breaks 007.2)"
    REAP_HEALTHY = ("reap-healthy",
                    "server terminates a client after a silence shorter than the timeout (breaks 007.4)")
    LEAK_ZOMBIES = "leak-zombies", "server stops serving a zombie but keeps its socket and handler (breaks 007.3)"
    # WS-RESILIENCE-001
    LOSE_HISTORY = "lose-history", "reconnect returns an empty history (breaks 001.1)"
    DROP_LAST_MESSAGE = "drop-last-message", "the last message before the disconnect is lost (breaks 001.1)"
    IGNORE_SESSION_OWNER = "ignore-session-owner", "any valid token may take over any session (breaks 001.5)"
    ACCEPT_EXPIRED_TOKEN = "accept-expired-token", "expired tokens are accepted (breaks 001.5)"
    NO_PERSISTENCE = "no-persistence", "sessions live only in memory (breaks 001.7)"
    CONCURRENT_RESUME_RACE = "concurrent-resume-race", "both simultaneous resumes are accepted (breaks 001.6)"
    LEAK_SESSION_IN_REFUSAL = ("leak-session-in-refusal",
                               "the session-forbidden error quotes the session's length and last message "
                               "(breaks 001.5)")
    REWORD_AGENT_REPLIES = ("reword-agent-replies",
                            "the agent's replies read differently from the protocol's (breaks 001.1, 001.4)")
    STAGE_AFTER_STEP = ("stage-after-step",
                        "the agent advances its step before replying, so a reply names the next stage "
                        "(breaks 001.1, 001.4)")
    # WS-RESILIENCE-002
    RESUME_DUPLICATES = ("resume-duplicates",
                         "resume replays from the last seq instead of last seq + 1 (breaks 002.1)")
    RESUME_SKIPS = "resume-skips", "resume skips one chunk (breaks 002.1)"
    RESUME_SKIPS_ONCE = ("resume-skips-once",
                         "the first resume of each stream skips one chunk; a later resume replays it, "
                         "so a stream cut more than once heals (breaks 002.1, 002.7, 002.8)")
    CORRUPT_ON_RESUME = "corrupt-on-resume", "one replayed chunk has a flipped byte (breaks 002.1, 002.2)"
    FORGET_STREAMS = "forget-streams", "resume always answers unknown stream (breaks 002.1)"
    TRUNCATE_STREAM = ("truncate-stream",
                       "streams over 1 MiB end early while claiming completeness (breaks 002.7)")
    # WS-RESILIENCE-006
    LEAK_CONNECTIONS = "leak-connections", "closed connections stay in the server's registry (breaks 006.2)"
    DUPLICATE_AGENTS = ("duplicate-agents",
                        "each connection creates a new agent and never retires the old (breaks 006.3)")
    LEAK_MEMORY = "leak-memory", "the server retains about 64 KiB per connection forever (breaks 006.4)"
    THROTTLE_RECONNECTS = ("throttle-reconnects",
                           "the server refuses a reconnect within 200 ms of the user's last (breaks 006.1)")


#: Every defect's name and description, in declaration order (for help texts and tests).
DEFECTS: dict[str, str] = {defect.value: defect.description for defect in Defect}
