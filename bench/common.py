"""What the benchmarks share: the installed package, the reference server, percentiles, output.

Every ``bench/*.py`` is run as a script from the repository root with the venv active
(``python bench/heartbeat.py --quick``). Python puts the script's folder, ``bench/``, first
on ``sys.path``, so ``from common import ...`` finds this module; the library itself comes
from the installed ``wsresilience`` package (``pip install -e .``, in ``requirements.txt``).
Nothing adds the repository root to ``sys.path``: the folders there (``keywords/``,
``refserver/``, ``faultproxy/``) are not the installed names, and a module imported under two
names would exist twice (see ``docs/architecture.md``).

Each benchmark prints a human-readable table first and, as its last line, one JSON object
(:func:`emit`); external checks read that object's keys, so they never change.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    from wsresilience.core.servers.process import ServerProcess
    from wsresilience.core.stats import percentile
except ModuleNotFoundError as missing:  # pragma: no cover - a setup mistake, said plainly
    raise SystemExit(
        f"bench: cannot import {missing.name!r}: install the package first, from the repository "
        "root with the venv active: pip install -e .  (see requirements.txt)"
    ) from missing

__all__ = [
    "REPO",
    "SERVER_START_TIMEOUT",
    "ServerProcess",
    "emit",
    "last_json",
    "percentile",
    "rank_percentile",
    "reference_server",
    "start_server",
    "table",
]

#: The repository root (the working directory for tools the benchmarks start).
REPO = Path(__file__).resolve().parents[1]

#: Seconds the reference server may take to say "listening on".
SERVER_START_TIMEOUT = 15.0


# -- the reference server -----------------------------------------------------------------------


def start_server(args: Sequence[str], env: dict[str, str] | None = None) -> ServerProcess:
    """Start ``python -m wsresilience.refserver *args`` and wait until it listens.

    ``env`` is added to this process's environment. The URL is in ``.url``; the caller
    stops the process (:meth:`ServerProcess.stop`), or uses :func:`reference_server`.
    """
    server = ServerProcess(list(args), env=dict(env or {}))
    try:
        server.start(SERVER_START_TIMEOUT)
    except BaseException:
        server.stop()  # reaps a process that exited before listening
        raise
    return server


@contextmanager
def reference_server(args: Sequence[str], env: dict[str, str] | None = None) -> Iterator[ServerProcess]:
    """The reference server, listening, for the ``with`` block; stopped when it ends."""
    server = start_server(args, env)
    try:
        yield server
    finally:
        server.stop()


# -- percentiles ----------------------------------------------------------------------------------

# ``percentile`` (imported above) is the library's one percentile: ``p`` in 0-100, linear
# interpolation between the two nearest samples, NaN for no samples. Every benchmark uses it,
# except for the figures below.


def rank_percentile(values: Sequence[float], p: float) -> float:
    """The sorted sample at index ``floor(p / 100 * n)`` (clamped to the last), ``p`` in 0-100.

    No interpolation: the figures ``bench/proxy.py`` has always printed and written to its
    JSON (its round-trip p50 and p99) are computed this way, and stay comparable with earlier
    runs only if they still are. Same scale as :func:`percentile`; for a new figure use that.
    """
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


# -- output ---------------------------------------------------------------------------------------


def table(rows: Sequence[Sequence[object]], widths: Sequence[int | None], gaps: str | Sequence[str] = "") -> str:
    """A side-by-side table: one line per row, the first cell left-aligned, the others right-aligned.

    ``widths[0]`` is the width of the first (label) column, ``None`` for the longest label;
    ``widths[k]`` the width of column ``k``. ``gaps`` goes before each column after the
    first: one string for all, or one per column. Cells are printed with ``str()`` (format
    numbers before, e.g. ``f"{x:.3f}"``); a row may stop early (no trailing gaps).
    """
    label_width = widths[0] if widths[0] is not None else max((len(str(row[0])) for row in rows), default=0)
    spaces = [gaps] * (len(widths) - 1) if isinstance(gaps, str) else list(gaps)
    lines = []
    for label, *cells in rows:
        line = f"{label!s:{label_width}}"
        for cell, width, gap in zip(cells, widths[1:], spaces):
            line += f"{gap}{cell!s:>{width}}"
        lines.append(line)
    return "\n".join(lines)


def emit(figures: dict[str, Any]) -> None:
    """Print ``figures`` as one JSON object on one line: a benchmark's last line."""
    print(json.dumps(figures), flush=True)


def last_json(output: str) -> Any:
    """The JSON object on the last line of ``output`` (what :func:`emit` printed last)."""
    return json.loads(output.strip().splitlines()[-1])
