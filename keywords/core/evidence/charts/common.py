"""What every chart shares: the width, vertical marks and threshold lines, and mark colours."""

from __future__ import annotations

from wsresilience.core.evidence.svg import MUTED, THRESHOLD

WIDTH = 720

Mark = tuple[float, str]
"""A vertical marker: ``(t_s, label)``, e.g. ``(1.25, "bound 1.25 s")``."""
Threshold = tuple[float, str]
"""A threshold line: ``(value, label)``, e.g. ``(100, "p95 < 100 ms")``."""


def mark_colour(label: str) -> str:
    """The colour of a vertical mark, by what its label says: bounds red, reconnects blue, resumes green."""
    k = label.lower()
    if any(w in k for w in ("bound", "limit", "deadline", "threshold", "cut")):
        return THRESHOLD
    if "reconnect" in k or "silent" in k:
        return "#0072B2"
    if "resum" in k or "first" in k:
        return "#009E73"
    return MUTED
