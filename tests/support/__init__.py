"""Shared test helpers: the echo server, the suite runner, sign-off fixtures and more.

Tests import them as ``support.<module>`` (``pythonpath = ["tests"]`` in pyproject.toml).
Every path a test needs is computed from :data:`REPO`, never from a test file's own place.
"""

from __future__ import annotations

from pathlib import Path

#: The repository root (the checkout holding keywords/, suites/, tests/ …).
REPO = Path(__file__).resolve().parents[2]
#: The Robot suites, one per test ID.
SUITES = REPO / "suites"
