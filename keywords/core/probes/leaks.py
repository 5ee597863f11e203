"""The leak rule: a leak is a *slope*, not a step.

Take one value per round, measured after the round has settled: ``v0`` before any load,
``v1 … vR`` after each round. The first ``warmup`` rounds may grow the value once
(allocator arenas, caches, lazily opened files); they are judged by nothing. From
``v[warmup]`` on, the least-squares slope per round and the net growth
``v[R] - v[warmup]`` must both stay within their tolerances. Counts (connections,
descriptors, tasks) get tolerance 0: exact. Memory gets a tolerance because allocators
keep freed memory.

:func:`judge_growth` returns a :class:`GrowthVerdict`, data: the keyword component words
and raises the failure, and :mod:`wsresilience.core.evidence.flapping` draws it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wsresilience.core.probes.series import MB


def parse_bytes(size: str | int | float) -> float:
    """Bytes from ``10 MB``, ``512 KB``, ``1048576`` (MB and KB are binary: 2^20, 2^10)."""
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


@dataclass(frozen=True)
class GrowthVerdict:
    """How one resource grew across rounds, judged by the leak rule."""

    resource: str
    values: tuple[float, ...]
    warmup: int
    slope: float
    growth: float
    slope_tolerance: float
    growth_tolerance: float

    @property
    def judged(self) -> tuple[float, ...]:
        """The values after warm-up, the ones the rule judges."""
        return self.values[self.warmup:]

    @property
    def warmup_step(self) -> float:
        """How much the warm-up rounds added (not judged)."""
        return self.values[self.warmup] - self.values[0]

    @property
    def leak(self) -> bool:
        """Whether the resource climbs: slope or net growth beyond tolerance."""
        return self.slope > self.slope_tolerance or self.growth > self.growth_tolerance

    def describe(self, scale: float = 1.0, unit: str = "") -> str:
        """One line for a failure message, values divided by ``scale``."""
        shown = ", ".join(f"{v / scale:.4g}" for v in self.values)
        return (
            f"{self.resource} per round [{shown}] {unit}: after {self.warmup} warm-up round(s) "
            f"slope {self.slope / scale:.4g} {unit}/round (max {self.slope_tolerance / scale:.4g}), "
            f"growth {self.growth / scale:.4g} {unit} (max {self.growth_tolerance / scale:.4g})"
        ).replace("  ", " ")


def judge_growth(
    resource: str,
    values: Sequence[float],
    warmup: int = 1,
    growth_tolerance: float = 0.0,
    slope_tolerance: float | None = None,
) -> GrowthVerdict:
    """Judge ``values`` (``v0`` before load, then one per round) by the leak rule.

    ``slope_tolerance`` defaults to ``growth_tolerance`` spread over the judged rounds, so a
    steady climb that would pass the growth bound by the last round still fails on its slope.
    Needs at least three judged values: two points always make a line.
    """
    if warmup < 0:
        raise ValueError(f"Warm-up rounds must be 0 or more, got {warmup}.")
    judged = list(values[warmup:])
    if len(judged) < 3:
        raise ValueError(
            f"Judging a slope needs at least 3 values after {warmup} warm-up round(s); "
            f"got {len(values)} value(s) in all. Run more rounds."
        )
    slope = least_squares_slope(list(range(len(judged))), judged)
    growth = judged[-1] - judged[0]
    if slope_tolerance is None:
        slope_tolerance = growth_tolerance / (len(judged) - 1)
    return GrowthVerdict(resource, tuple(float(v) for v in values), warmup, slope, growth,
                         slope_tolerance, growth_tolerance)
