"""Seeded defects: named ways to break the reference server on purpose.

Each one breaks specific acceptance criteria (see ACCEPTANCE.md); the suites must fail
exactly those when the server runs with it.
"""

from __future__ import annotations

DEFECTS: dict[str, str] = {
    # WS-RESILIENCE-007
    "no-keepalive": "server never pings (breaks 007.1, 007.2)",
    "slow-reaper": "server terminates zombies three times later than configured (breaks 007.2)",
    "reap-healthy": "server terminates a client after a silence shorter than the timeout (breaks 007.4)",
    "leak-zombies": "server stops serving a zombie but keeps its socket and handler (breaks 007.3)",
    # WS-RESILIENCE-001
    "lose-history": "reconnect returns an empty history (breaks 001.1)",
    "drop-last-message": "the last message before the disconnect is lost (breaks 001.1)",
    "ignore-session-owner": "any valid token may take over any session (breaks 001.5)",
    "accept-expired-token": "expired tokens are accepted (breaks 001.5)",
    "no-persistence": "sessions live only in memory (breaks 001.7)",
    "concurrent-resume-race": "both simultaneous resumes are accepted (breaks 001.6)",
    # WS-RESILIENCE-002
    "resume-duplicates": "resume replays from the last seq instead of last seq + 1 (breaks 002.1)",
    "resume-skips": "resume skips one chunk (breaks 002.1)",
    "corrupt-on-resume": "one replayed chunk has a flipped byte (breaks 002.1, 002.2)",
    "forget-streams": "resume always answers unknown stream (breaks 002.1)",
    "truncate-stream": "streams over 1 MiB end early while claiming completeness (breaks 002.7)",
    # WS-RESILIENCE-006
    "leak-connections": "closed connections stay in the server's registry (breaks 006.2)",
    "duplicate-agents": "each connection creates a new agent and never retires the old (breaks 006.3)",
    "leak-memory": "the server retains about 64 KiB per connection forever (breaks 006.4)",
    "throttle-reconnects": "the server refuses a reconnect within 200 ms of the user's last (breaks 006.1)",
}


class UnknownDefect(ValueError):
    """A defect name the server does not know."""


def validate(names: list[str]) -> list[str]:
    """The names, checked; an unknown one raises with the list of known names."""
    for name in names:
        if name not in DEFECTS:
            known = ", ".join(sorted(DEFECTS))
            raise UnknownDefect(f"Unknown defect {name!r}; known defects: {known}.")
    return names
