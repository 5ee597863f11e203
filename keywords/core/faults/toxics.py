"""Faults in Toxiproxy's words: the JSON a backend is given, built from keyword arguments.

Pure functions, no I/O. A keyword says ``Add Latency    p    200 ms    direction=both``;
:func:`toxic_specs` turns that into one toxic per stream, named the way Toxiproxy users
expect (``latency_upstream``, ``latency_downstream``), and the backends send them as they
are. Times become whole milliseconds (:func:`milliseconds`), rates KB/s (:func:`rate_kb`).

>>> [t["name"] for t in toxic_specs("latency", {"latency": 200}, "both", 1.0, None)]
['latency_upstream', 'latency_downstream']
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

#: ``direction`` as the keywords take it, and the Toxiproxy streams it stands for.
STREAMS: dict[str, tuple[str, ...]] = {
    "upstream": ("upstream",),
    "downstream": ("downstream",),
    "both": ("upstream", "downstream"),
}
#: Rate units, longest suffix first, in KB/s (1 KB is 1000 bytes, as in Toxiproxy).
RATE_UNITS: dict[str, float] = {"kb/s": 1.0, "mb/s": 1000.0, "b/s": 0.001}


def streams(direction: str) -> tuple[str, ...]:
    """The Toxiproxy streams ``direction`` names; anything else is a usage error."""
    found = STREAMS.get(str(direction).strip().lower())
    if found is None:
        raise ValueError(f"Expected direction upstream, downstream or both, got {direction!r}.")
    return found


def toxic_specs(kind: str, attributes: dict[str, Any], direction: str, toxicity: float,
                name: str | None, label: str = "") -> list[dict[str, Any]]:
    """One toxic per stream of ``direction``, as Toxiproxy's JSON.

    Names: ``name`` as given when it is one toxic, else ``<name or label or kind>_<stream>``
    (``label`` lets a keyword name its faults after itself: ``blackhole_upstream`` for a
    ``timeout`` toxic).
    """
    chosen = streams(direction)
    base = name or label or kind
    return [
        {
            "type": kind,
            "name": f"{base}_{stream}" if (len(chosen) > 1 or not name) else base,
            "stream": stream,
            "toxicity": float(toxicity),
            "attributes": attributes,
        }
        for stream in chosen
    ]


def milliseconds(value: timedelta) -> int:
    """``value`` in whole milliseconds, as Toxiproxy's attributes take time."""
    ms = value.total_seconds() * 1000
    if ms < 0:
        raise ValueError(f"Expected a time >= 0, got {value}.")
    return round(ms)


def rate_kb(rate: str | int | float) -> int:
    """A rate in whole KB/s: ``64``, ``'64 KB/s'``, ``'2 MB/s'`` or ``'2000 B/s'``.

    Toxiproxy's ``rate`` is a whole number of KB/s and 0 means unlimited, so a rate that is
    not whole is refused rather than rounded: ``'1500 B/s'`` would become a cap a third off,
    and ``'500 B/s'`` would become 0, a bandwidth limit that limits nothing.
    """
    text = str(rate).strip().lower().replace(" ", "")
    factor = 1.0
    for unit, scale in RATE_UNITS.items():
        if text.endswith(unit):
            text, factor = text[: -len(unit)], scale
            break
    try:
        kb = float(text) * factor
    except ValueError:
        raise ValueError(f"Expected a rate such as 64, '64 KB/s' or '2 MB/s', got {rate!r}.") from None
    if kb < 0:
        raise ValueError(f"Expected a rate >= 0, got {rate!r}.")
    kb = round(kb, 6)  # '0.064 MB/s' is 64 KB/s, not 64.00000000000001
    if kb < 1:
        raise ValueError(f"Expected a rate of at least 1 KB/s, got {rate!r} ({kb:g} KB/s): Toxiproxy's "
                         "bandwidth rate is whole KB/s and 0 means unlimited, so this fault would limit nothing.")
    if not kb.is_integer():
        raise ValueError(f"Expected a whole number of KB/s, got {rate!r} ({kb:g} KB/s): Toxiproxy's "
                         "bandwidth rate is whole KB/s (1 KB = 1000 B).")
    return int(kb)
