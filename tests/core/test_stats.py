"""The one percentile and the latency statistics."""

from __future__ import annotations

import math

import pytest

from wsresilience.core.stats import LatencyStats, percentile


def test_percentiles_interpolate_linearly() -> None:
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert percentile(values, 50) == pytest.approx(5.5)
    assert percentile(values, 95) == pytest.approx(9.55)
    assert percentile([7], 99) == 7
    assert math.isnan(percentile([], 50))


def test_latency_stats_and_jitter() -> None:
    stats = LatencyStats.of([10, 12, 10, 14])
    assert stats.min == 10 and stats.max == 14 and stats.mean == pytest.approx(11.5)
    assert stats.jitter == pytest.approx((2 + 2 + 4) / 3)
    assert stats.get("P95") == stats.p95
    with pytest.raises(ValueError, match="Unknown statistic"):
        stats.get("p42")
    assert math.isnan(LatencyStats.of([]).p95)
