"""Retry with exponential backoff and full jitter.

Attempt 1 happens at once. Before attempt ``n`` (n ≥ 2) the client waits a delay drawn from
the *ceiling* ``min(cap, base * factor ** (n - 2))``: with ``jitter="full"`` the delay is
uniform in ``[0, ceiling]`` (AWS's "full jitter", which spreads a herd of reconnecting
clients best), with ``jitter="none"`` it is the ceiling itself. After ``limit`` failed
attempts the retry gives up with :class:`RetriesExhausted`, naming the attempts and the
last error.

Only what can heal is retried. An error no retry can fix (by default what
:func:`~wsresilience.core.client.open_errors.is_permanent` calls permanent: an invalid URL,
an unknown host, an untrusted certificate, an HTTP 4xx answer to the upgrade) stops the
retry at once with :class:`RetryStopped`, which names that error, the attempts made and
the time they took: waiting through the whole schedule would only hide it.

The random generator is seeded, so a schedule is reproducible: the delays a test measured
can be compared one by one with :meth:`BackoffPolicy.schedule`.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from wsresilience.core.client.open_errors import is_permanent
from wsresilience.errors import RetriesExhausted, RetryStopped

T = TypeVar("T")
Jitter = Literal["full", "none"]


@dataclass(frozen=True)
class BackoffPolicy:
    """How to retry: ``base`` and ``cap`` in seconds, ``limit`` attempts in all."""

    base: float = 0.05
    factor: float = 2.0
    cap: float = 2.0
    limit: int = 8
    jitter: Jitter = "full"
    seed: int | None = 0

    def __post_init__(self) -> None:
        if self.base < 0 or self.cap < 0 or self.factor < 1 or self.limit < 1:
            raise ValueError(
                "Backoff needs base >= 0, cap >= 0, factor >= 1 and limit >= 1; got "
                f"base={self.base}, cap={self.cap}, factor={self.factor}, limit={self.limit}."
            )
        if self.jitter not in ("full", "none"):
            raise ValueError(f"Jitter must be 'full' or 'none', got {self.jitter!r}.")

    def ceiling(self, attempt: int) -> float:
        """The largest delay before ``attempt`` (2, 3 …); 0 before attempt 1."""
        if attempt <= 1:
            return 0.0
        return min(self.cap, self.base * self.factor ** (attempt - 2))

    def schedule(self) -> list[float]:
        """The delays before attempts 2 … ``limit``, as this policy's seed draws them."""
        rng = random.Random(self.seed)
        return [self._draw(rng, n) for n in range(2, self.limit + 1)]

    def _draw(self, rng: random.Random, attempt: int) -> float:
        ceiling = self.ceiling(attempt)
        return rng.uniform(0, ceiling) if self.jitter == "full" else ceiling

    def describe(self) -> str:
        """One line: ``base 50 ms × 2 up to 2 s, full jitter, 8 attempts``."""
        return (f"base {self.base * 1000:g} ms × {self.factor:g} up to {self.cap * 1000:g} ms, "
                f"{self.jitter} jitter, {self.limit} attempts")


@dataclass
class Attempt:
    """One try: when it started and ended (monotonic), the delay before it, the error."""

    number: int
    delay: float
    started: float
    ended: float = 0.0
    error: str = ""


@dataclass
class RetryLog:
    """Every attempt of one retry, in order."""

    policy: BackoffPolicy
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def measured_delays(self) -> list[float]:
        """Seconds from the end of each failed attempt to the start of the next."""
        return [b.started - a.ended for a, b in zip(self.attempts, self.attempts[1:])]

    @property
    def planned_delays(self) -> list[float]:
        return [a.delay for a in self.attempts[1:]]


async def retry(
    operation: Callable[[], Awaitable[T]],
    policy: BackoffPolicy,
    what: str,
    log: RetryLog | None = None,
    give_up: Callable[[BaseException], bool] = is_permanent,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``operation`` until it succeeds, waiting per ``policy`` between attempts.

    ``give_up(exc)`` ends the retry at once with :class:`RetryStopped` (an error no retry
    can fix; by default a permanent open error). Otherwise, after ``policy.limit`` failed
    attempts, :class:`RetriesExhausted`. ``log`` (filled in place) keeps every attempt for
    the report, success or not.
    """
    log = log if log is not None else RetryLog(policy)
    rng = random.Random(policy.seed)
    for number in range(1, policy.limit + 1):
        delay = policy._draw(rng, number) if number > 1 else 0.0
        if delay:
            await sleep(delay)
        attempt = Attempt(number, delay, time.monotonic())
        log.attempts.append(attempt)
        try:
            result = await operation()
        except Exception as exc:  # every failure is recorded; only what can heal is retried
            attempt.ended = time.monotonic()
            attempt.error = str(exc) or type(exc).__name__
            if give_up(exc):
                raise RetryStopped(what, log) from None
            continue
        attempt.ended = time.monotonic()
        return result
    raise RetriesExhausted(what, log)
