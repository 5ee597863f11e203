"""Time arguments and the one-line failure every wait raises when it runs out of time."""

from __future__ import annotations

from datetime import timedelta

from robot.utils import timestr_to_secs

TimeLike = timedelta | float | int | str


def seconds(value: TimeLike | None, default: float | None = None) -> float:
    """Seconds from a ``timedelta``, a number or a Robot time string (``500 ms``, ``2s``)."""
    if value is None or value == "":
        if default is None:
            raise ValueError("Expected a time such as '500 ms' or '2 s', got nothing.")
        return default
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(timestr_to_secs(value))


def percent(value: float | str) -> float:
    """A fraction from ``10%``, ``"0.1"`` or ``0.1``."""
    if isinstance(value, str) and value.strip().endswith("%"):
        return float(value.strip()[:-1]) / 100
    return float(value)


