"""One exception hierarchy for the whole library.

Every error the library raises derives from :class:`WsResilienceError`. Those that mean
"the check failed" also derive from :class:`AssertionError`, so Robot Framework reports them
as plain test failures, and set ``ROBOT_SUPPRESS_NAME`` so the report shows the one-line
message alone. Errors that mean "this cannot be checked here" are SKIPs, raised as Robot's
``SkipExecution`` by the components, never PASS.

| class               | raised when                                                        |
| ``WaitTimeout``     | a wait ran out of time (what, where, how long)                    |
| ``OpenFailed``      | a WebSocket could not be opened (why, in one line)                 |
| ``ProtocolFailure`` | the server broke the protocol the client speaks                    |
| ``StreamRefused``   | a stream resume was refused                                        |
| ``RetriesExhausted``| a retry schedule ran out (attempts, last error)                    |
| ``RetryStopped``    | a retry stopped at an error no retry can heal (a RetriesExhausted) |
| ``ProbeLost``       | a server probe that answered before stopped answering              |
| ``ToxiproxyError``  | a Toxiproxy API call failed                                        |
| ``Unsupported``     | a fault backend cannot do what was asked                           |
| ``ServerStartFailed``| a server process did not start or died                            |
| ``ProbeUnavailable``| the target offers no such probe (components turn it into a SKIP)   |
| ``TokenUnavailable``| the token source cannot give that kind of token (a SKIP)           |
| ``TokenSourceFailed``| the token source could not make a token (its command failed)      |
| ``ConnectionEnded`` | the server closed a session connection (loop-side signal)          |
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wsresilience.core.streams.adapter import Refused
    from wsresilience.core.streams.backoff import RetryLog


class WsResilienceError(Exception):
    """The base of every error this library raises."""


class ResilienceFailure(WsResilienceError, AssertionError):
    """A check failed. The message is one line: what was expected, what was seen, where."""

    ROBOT_SUPPRESS_NAME = True


class WaitTimeout(ResilienceFailure, TimeoutError):
    """A wait ran out of time. The message is one line: what, where, how long.

    It is also a ``TimeoutError``, so loop-side code that expects silence (a refused client
    that gets nothing) can catch it like any timeout.
    """

    def __init__(self, what: str, elapsed: float, target: str = "", detail: str = "") -> None:
        where = f" at {target}" if target else ""
        said = f": {detail}" if detail else ""
        super().__init__(f"Timed out after {elapsed:.3f} s waiting for {what}{where}{said}.")
        self.what = what
        self.elapsed = elapsed
        self.target = target


class OpenFailed(ResilienceFailure):
    """A WebSocket connection could not be opened; the message says why in one line."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class ProtocolFailure(ResilienceFailure):
    """The server broke the protocol the client speaks (unexpected message, bad field)."""


class StreamRefused(ResilienceFailure):
    """The service answered a start or resume with an error."""

    def __init__(self, what: str, refusal: Refused) -> None:
        super().__init__(f"{what} was refused: {refusal.code}: {refusal.message}")
        self.refusal = refusal


class RetriesExhausted(ResilienceFailure):
    """Every attempt failed; the message names how many and the last error."""

    def __init__(self, what: str, log: RetryLog) -> None:
        last = log.attempts[-1].error if log.attempts else "no attempt made"
        elapsed = (log.attempts[-1].ended - log.attempts[0].started) if log.attempts else 0.0
        super().__init__(
            f"Gave up {what} after {len(log.attempts)} attempts in {elapsed:.3f} s "
            f"({log.policy.describe()}); last error: {last}"
        )
        self.log = log


class RetryStopped(RetriesExhausted):
    """A retry stopped before its limit: the last error is permanent, no retry can heal it.

    The message names the error, the attempts made of those the policy allowed, and how
    long they took.
    """

    def __init__(self, what: str, log: RetryLog) -> None:
        ResilienceFailure.__init__(self, _stopped_message(what, log))
        self.log = log


def _stopped_message(what: str, log: RetryLog) -> str:
    last = log.attempts[-1]
    elapsed = last.ended - log.attempts[0].started
    made = len(log.attempts)
    return (f"Stopped {what} after {made} attempt{'s' if made != 1 else ''} of {log.policy.limit} "
            f"in {elapsed:.3f} s: a permanent error, which no retry can heal: {last.error}")


class ProbeLost(ResilienceFailure):
    """A server probe that answered earlier stopped answering: the server died or hung."""


class ToxiproxyError(ResilienceFailure):
    """A Toxiproxy API call failed."""


class Unsupported(ResilienceFailure):
    """The fault backend in use cannot do what was asked."""


class ServerStartFailed(WsResilienceError, RuntimeError):
    """A server process did not become ready, or exited."""


class ProbeUnavailable(WsResilienceError):
    """The target offers no such probe; components turn this into a SKIP with the reason."""


class TokenUnavailable(WsResilienceError):
    """The token source cannot give this kind of token (an expired one from a command that
    cannot backdate); components turn this into a SKIP with the reason."""


class TokenSourceFailed(WsResilienceError, RuntimeError):
    """The token source could not make a token: its command failed, or the key cannot sign."""


class ConnectionEnded(WsResilienceError):
    """The server closed a connection the client was waiting on (a loop-side signal)."""
