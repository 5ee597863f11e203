"""The sign-off report: criteria-level verdicts and evidence from a Robot ``output.xml``.

``python -m wsresilience.signoff results/output.xml`` writes ``results/signoff.html``; see
:func:`write_signoff` for programmatic use and ``docs/signoff.md`` for what the page shows.
"""

from __future__ import annotations

import os
from pathlib import Path

from .baseline import DEFAULT_DRIFT, Comparison, load_baseline
from .junit import write_junit
from .model import SignOff, load
from .page import render

__all__ = ["Comparison", "SignOff", "load", "load_baseline", "publish", "write_signoff"]


def write_signoff(
    output_xml: Path | str,
    *,
    log: Path | str | None = "log.html",
    xunit: Path | str | None = None,
    html_name: str = "signoff.html",
    baseline: Path | str | None = None,
    drift: float = DEFAULT_DRIFT,
) -> Path:
    """Write ``signoff.html`` beside ``output_xml`` and return its path.

    ``baseline``, an earlier run's output (XML or JSON), adds each figure's change since that
    run and flags figures that used up more than ``drift`` of their margin
    (:mod:`wsresilience.signoff.baseline`).

    ``log`` is the log.html the page links into: a relative path is taken relative to the
    output's directory (Robot's default is ``log.html`` there); ``None`` writes no links.
    ``xunit``, when given, also writes the JUnit XML (relative paths: beside the output too).
    """
    output_xml = Path(output_xml)
    if not output_xml.is_file():
        raise FileNotFoundError(f"Robot output file not found: {output_xml}")
    signoff = load(output_xml)
    comparison = load_baseline(Path(baseline), signoff, drift) if baseline is not None else None
    return publish(signoff, log=log, xunit=xunit, html_name=html_name, comparison=comparison)


def publish(
    signoff: SignOff,
    *,
    log: Path | str | None = "log.html",
    xunit: Path | str | None = None,
    html_name: str = "signoff.html",
    comparison: Comparison | None = None,
) -> Path:
    """Write the page (and JUnit XML) for an already loaded sign-off; see :func:`write_signoff`."""
    output_xml = signoff.source
    target = output_xml.parent / html_name
    log_href = junit_href = None
    if log is not None and str(log).upper() != "NONE":
        log_path = Path(log) if Path(log).is_absolute() else output_xml.parent / log
        log_href = _relative(log_path, target.parent)
    xunit_path = None
    if xunit is not None:
        xunit_path = Path(xunit) if Path(xunit).is_absolute() else output_xml.parent / xunit
        junit_href = _relative(xunit_path, target.parent)
    target.write_text(render(signoff, log_href, junit_href, comparison), encoding="utf-8")
    if xunit_path is not None:
        write_junit(signoff, xunit_path)
    return target


def _relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()
