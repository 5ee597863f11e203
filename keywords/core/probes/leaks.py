"""The leak rule: a leak is growth that keeps going, per connection served.

Take one value per round, measured after the round has settled: ``v0`` before any load,
``v1 … vR`` after each round, and how many connections each round made. The x axis is the
number of connections served so far, so every rate is *per connection*: what a leak is
(64 KiB kept per connection) and what stays comparable when rounds differ in size.

The first ``warmup`` rounds are judged by nothing: a server may grow once (allocator
arenas, caches, lazily opened files). Then:

**Memory** (RSS) is judged by a two-segment model, both segments fitted by least squares:
the whole judged span, and its late half (from the middle judged round to the last). A
leak keeps its rate to the end, so both slopes carry it; the *sustained rate*, the lower of
the two, must stay within the bound (bytes per connection).

- A plateau passes. A V8 process grows its heap lazily and levels off later, an allocator
  keeps what it once needed: the late slope falls towards 0 once the curve has bent.
- A slow ramp that has not bent yet passes when its overall rate is within the bound
  (a plain ``ws`` server on V8 gains some 6 KiB per connection for thousands of
  connections, then stops; a leak of 64 KiB per connection never stops).
- One slope alone does not do: early rounds of a V8 heap climb, dip when it compacts and
  climb again, so a late half can be steeper than the whole and a whole steeper than
  its late half. A leak is steep in both.

Why not a fitted saturating curve: on real V8 data the first rounds are often *convex*
(a compaction dip, then the climb), so a saturating or logarithmic fit swings with noise,
while two straight segments over enough rounds do not. Enough rounds: the late half must
reach past the bend, so the rule needs at least :data:`MIN_JUDGED` judged values.

**Counts** (connections, descriptors, tasks) are exact: after warm-up no count may end
higher than it started nor climb at all (growth and slope both ≤ 0).

:func:`judge_memory` and :func:`judge_count` return a :class:`GrowthVerdict`, data: the
keyword component words and raises the failure, and :mod:`wsresilience.core.evidence.flapping`
draws it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wsresilience.core.probes.series import MB

#: Judged values (after warm-up) the rule needs: a late half of at least 3 points.
MIN_JUDGED = 5

#: What the table and log say about the model, and why.
MEMORY_MODEL = (
    "two segments fitted by least squares over connections served: the whole judged span "
    "and its late half; the sustained rate is the lower slope (a leak is steep in both, a "
    "plateau's late slope falls, a slow warm-up ramp stays low overall)"
)
COUNT_MODEL = "exact: after warm-up a count may neither end higher than it started nor climb"


def parse_bytes(size: str | int | float) -> float:
    """Bytes from ``10 MB``, ``12 KiB``, ``1048576`` (MB and KB are binary: 2^20, 2^10)."""
    text = str(size).strip().upper().replace("IB", "B")
    for suffix, factor in (("GB", 1 << 30), ("MB", MB), ("KB", 1 << 10), ("B", 1)):
        if text.endswith(suffix):
            return float(text[: -len(suffix)].strip()) * factor
    return float(text)


def least_squares_slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """The slope of the least-squares line through ``(xs, ys)``; 0 for fewer than 2 points."""
    n = len(xs)
    if n != len(ys):
        raise ValueError(f"Expected as many x as y values, got {n} and {len(ys)}.")
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


def connections_served(per_round: float | Sequence[float], rounds: int) -> tuple[float, ...]:
    """Connections served before each value: ``0`` for ``v0``, then running totals.

    ``per_round`` is one number for every round or one number per round (``rounds`` of them).
    """
    counts = [float(per_round)] * rounds if isinstance(per_round, int | float) else [float(c) for c in per_round]
    if len(counts) != rounds:
        raise ValueError(f"Expected connections for each of {rounds} round(s), got {len(counts)}.")
    if any(c <= 0 for c in counts):
        raise ValueError(f"Every round must serve at least one connection, got {counts}.")
    served = [0.0]
    for count in counts:
        served.append(served[-1] + count)
    return tuple(served)


@dataclass(frozen=True)
class GrowthVerdict:
    """How one resource grew across rounds, judged by the leak rule.

    Rates are per connection served (``resource`` units per connection).
    """

    resource: str
    values: tuple[float, ...]
    served: tuple[float, ...]
    warmup: int
    exact: bool
    bound: float
    rate: float
    late_rate: float
    early_rate: float

    @property
    def judged(self) -> tuple[float, ...]:
        """The values after warm-up, the ones the rule judges."""
        return self.values[self.warmup:]

    @property
    def middle(self) -> int:
        """Index of the round where the late half starts (and the early half ends)."""
        return late_start(len(self.values) - 1, self.warmup)

    @property
    def warmup_step(self) -> float:
        """How much the warm-up rounds added (not judged)."""
        return self.values[self.warmup] - self.values[0]

    @property
    def growth(self) -> float:
        """Net change after warm-up: last value minus the first judged one."""
        return self.values[-1] - self.values[self.warmup]

    @property
    def sustained_rate(self) -> float:
        """The rate a leak would keep: the lower of the whole-span and late-half slopes."""
        return min(self.rate, self.late_rate)

    @property
    def model(self) -> str:
        """Which model judged this resource, and why."""
        return COUNT_MODEL if self.exact else MEMORY_MODEL

    @property
    def leak(self) -> bool:
        """Whether the resource climbs: counts at all, memory beyond the bound to the end."""
        if self.exact:
            return self.growth > 0 or self.rate > 0
        return self.sustained_rate > self.bound

    def describe(self, scale: float = 1.0, unit: str = "") -> str:
        """One line for a failure message, values divided by ``scale``."""
        shown = ", ".join(f"{v / scale:.4g}" for v in self.values)
        head = f"{self.resource} per round [{shown}] {unit} over {self.served[-1]:g} connections".replace("  ", " ")
        if self.exact:
            return (f"{head}: after {self.warmup} warm-up round(s) it grew by {self.growth / scale:g} {unit}, "
                    f"{self.rate / scale:.3g} {unit} per connection (exact: max 0)").replace("  ", " ")
        kib = 1024.0
        return (
            f"{head}: after {self.warmup} warm-up round(s) it kept {self.rate / kib:.3g} KiB per connection "
            f"overall and {self.late_rate / kib:.3g} KiB per connection over the late half "
            f"(from round {self.middle}); sustained {self.sustained_rate / kib:.3g} KiB per connection "
            f"(max {self.bound / kib:.3g})"
        )


def late_start(rounds: int, warmup: int) -> int:
    """The round where the late half of rounds ``warmup … rounds`` starts."""
    return warmup + (rounds - warmup) // 2


def _rates(values: Sequence[float], served: Sequence[float], warmup: int) -> tuple[float, float, float]:
    """Slopes per connection: whole judged span, late half, early half."""
    mid = late_start(len(values) - 1, warmup)
    return (least_squares_slope(served[warmup:], values[warmup:]),
            least_squares_slope(served[mid:], values[mid:]),
            least_squares_slope(served[warmup:mid + 1], values[warmup:mid + 1]))


def _checked(values: Sequence[float], per_round: float | Sequence[float], warmup: int) -> tuple[float, ...]:
    """The connections served before each value, after checking there are enough rounds."""
    if warmup < 0:
        raise ValueError(f"Warm-up rounds must be 0 or more, got {warmup}.")
    if len(values) - warmup < MIN_JUDGED:
        raise ValueError(
            f"The leak rule needs at least {MIN_JUDGED} values after {warmup} warm-up round(s), so that "
            f"its late half reaches past a warm-up's bend; got {len(values)} value(s) in all. Run more rounds."
        )
    return connections_served(per_round, len(values) - 1)


def judge_memory(
    resource: str,
    values: Sequence[float],
    per_round: float | Sequence[float],
    warmup: int = 1,
    bound: float = 12 * 1024,
) -> GrowthVerdict:
    """Judge memory ``values`` (``v0`` before load, then one per round) by the two-segment model.

    ``per_round``: connections each round made (one number, or one per round); ``bound``:
    bytes per connection the sustained rate may reach.
    """
    served = _checked(values, per_round, warmup)
    values = tuple(float(v) for v in values)
    return GrowthVerdict(resource, values, served, warmup, False, float(bound), *_rates(values, served, warmup))


def judge_count(
    resource: str,
    values: Sequence[float],
    per_round: float | Sequence[float],
    warmup: int = 1,
) -> GrowthVerdict:
    """Judge a count exactly: after warm-up it may neither end higher nor climb."""
    served = _checked(values, per_round, warmup)
    values = tuple(float(v) for v in values)
    return GrowthVerdict(resource, values, served, warmup, True, 0.0, *_rates(values, served, warmup))
