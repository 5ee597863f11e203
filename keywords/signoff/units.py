"""One set of units on the sign-off page: latency in ms, sizes in KiB or MiB, rates per second.

Keywords log figures in the unit that suits the measurement (a termination in ``s``, a
retrieval in ``ms``, memory in ``MB``), so a page that printed them as logged would read
"0.001896 s <= 1 s" beside "0.7112 ms < 1000 ms". :func:`display_unit` maps a logged unit to
the page's unit and the factor to multiply by; value, threshold, tolerance and margin of a
figure all scale by the same factor, so the verdict and the margin's sign never change.

Sizes: the library's ``KB`` and ``MB`` are binary (2^10, 2^20, as
:func:`wsresilience.core.probes.leaks.parse_size` reads them), so they are shown as KiB and
MiB. A size is shown in MiB from 1 MiB up, else in KiB. Units the table does not know (counts
such as ``chunks`` or ``agents``, ``%``) are kept as they are.
"""

from __future__ import annotations

import math

from wsresilience.core.evidence.figures import fmt

#: Logged time unit -> factor to milliseconds.
TIME_TO_MS = {"s": 1000.0, "sec": 1000.0, "seconds": 1000.0, "ms": 1.0, "us": 0.001, "µs": 0.001}
#: Logged size unit -> factor to bytes (the library's KB/MB are binary).
SIZE_TO_BYTES = {
    "b": 1.0, "bytes": 1.0, "kb": 1024.0, "kib": 1024.0, "mb": 1024.0**2, "mib": 1024.0**2,
    "gb": 1024.0**3, "gib": 1024.0**3,
}
#: Logged rate unit -> (factor, shown unit), for rates given per minute or per ms.
RATES = {"/min": (1 / 60.0, "/s"), "/ms": (1000.0, "/s")}


def display_unit(unit: str, magnitude: float = 0.0) -> tuple[float, str]:
    """``(factor, unit)`` to show a figure logged in ``unit`` whose largest number is ``magnitude``.

    ``s`` becomes ``ms`` (x1000); sizes become KiB or MiB by ``magnitude`` (in the logged
    unit); a size per something (``MB/round``) keeps its "per" part; other units stay.

    >>> display_unit("s")
    (1000.0, 'ms')
    >>> display_unit("MB", 0.003)
    (1024.0, 'KiB')
    """
    head, slash, per = unit.strip().partition("/")
    key = head.strip().lower()
    rest = f"/{per}" if slash else ""
    if key in TIME_TO_MS and not rest:
        return TIME_TO_MS[key], "ms"
    if key in SIZE_TO_BYTES:
        to_bytes = SIZE_TO_BYTES[key]
        size = abs(magnitude) * to_bytes if math.isfinite(magnitude) else 0.0
        shown, divisor = ("MiB", 1024.0**2) if size >= 1024.0**2 else ("KiB", 1024.0)
        return to_bytes / divisor, shown + rest
    if rest and f"/{per.strip().lower()}" in RATES and not key:
        factor, shown = RATES[f"/{per.strip().lower()}"]
        return factor, shown
    return 1.0, unit.strip()


def show(value: float, unit: str) -> str:
    """A number and its unit as the page writes it: ``12 ms``, ``0.4 KiB``, ``n/a``."""
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    number = fmt(round(value, 6) if abs(value) >= 1e-6 else value)
    return f"{number} {unit}".strip()


def signed(value: float, unit: str) -> str:
    """A margin or a change with its sign: ``+96.8 ms``, ``-2 KiB``, ``n/a``."""
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return ("+" if value > 0 else "") + show(value, unit)
