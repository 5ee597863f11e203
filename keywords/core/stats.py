"""Latency statistics: percentiles by linear interpolation, and jitter."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class LatencyStats:
    """Summary of a series of latencies, in milliseconds.

    ``jitter`` is the mean absolute difference between consecutive samples (the
    un-smoothed form of RFC 3550's interarrival jitter).
    """

    count: int
    min: float
    mean: float
    p50: float
    p95: float
    p99: float
    max: float
    jitter: float

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> LatencyStats:
        """Statistics of ``samples_ms`` (in recording order, which jitter depends on)."""
        if not samples_ms:
            nan = math.nan
            return cls(0, nan, nan, nan, nan, nan, nan, nan)
        diffs = [abs(b - a) for a, b in zip(samples_ms, samples_ms[1:])]
        return cls(
            count=len(samples_ms),
            min=min(samples_ms),
            mean=sum(samples_ms) / len(samples_ms),
            p50=percentile(samples_ms, 50),
            p95=percentile(samples_ms, 95),
            p99=percentile(samples_ms, 99),
            max=max(samples_ms),
            jitter=sum(diffs) / len(diffs) if diffs else 0.0,
        )

    def get(self, name: str) -> float:
        """A statistic by name: ``min``, ``mean``, ``p50``, ``p95``, ``p99``, ``max``, ``jitter``."""
        key = name.strip().lower()
        if key not in {"count", "min", "mean", "p50", "p95", "p99", "max", "jitter"}:
            raise ValueError(
                f"Unknown statistic {name!r}; expected one of min, mean, p50, p95, p99, max, jitter."
            )
        return float(getattr(self, key))
