"""Sign-off files left by an earlier run: found and removed when a new run starts.

A sign-off page describes one ``output.xml``. When a new run writes its ``output.xml`` into
the same folder, the page an earlier run left there describes an output that is gone: after
``robot --include AC-007.2 suites`` it would still say PASS for the 37 tests of the last full
run. So a folder that gets a new ``output.xml`` keeps a sign-off that matches it, or none:

* when a suite that imports the library starts, the library's listener calls
  :func:`clear_for_this_run` (``SignOffListener`` does too, when the run starts), which
  removes the sign-off files in the folders this run writes its output to;
* ``SignOffListener`` (or ``python -m wsresilience.signoff`` afterwards) then writes a page
  for the new output.

The page lands beside ``output.xml``, so the folder cleared is that of the run's
``${OUTPUT FILE}`` (none with ``--output NONE``: that run writes no output.xml). A pabot
worker writes into ``<outdir>/pabot_results/<n>/`` (``pabot_results/<argfile>/<n>/`` with
``--argumentfileN``) while the merged ``output.xml`` lands in ``<outdir>``; pabot gives each
worker the variable ``${PABOTQUEUEINDEX}``, so a worker that has it also clears the folder
above ``pabot_results``. (A pabot ``--output`` in another folder than ``--outputdir`` is not
seen by the workers: its old page stays.)

Only files the sign-off wrote go: a page whose head carries ``<meta name="generator"
content="wsresilience.signoff">`` (or a ``signoff.html`` with the sign-off footer, as pages
written before that mark have), the JUnit file such a page names in ``<meta
name="wsr-signoff-junit">``, and any XML file whose root is ``<testsuites name="Sign-off: …">``.
A page or JUnit file of the user's own with the same name stays.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path

GENERATOR = "wsresilience.signoff"
#: The mark every page carries in its head (the page module writes it).
GENERATOR_META = f'<meta name="generator" content="{GENERATOR}">'
#: The head tag naming the JUnit file written with the page (a path relative to the page).
JUNIT_META_NAME = "wsr-signoff-junit"
#: The footer sentence of every page, the only mark of pages written before GENERATOR_META.
FOOTER_MARK = f"by <code>python -m {GENERATOR}</code>"
LEGACY_PAGE = "signoff.html"
JUNIT_ROOT = '<testsuites name="Sign-off: '
PABOT_RESULTS = "pabot_results"
HEAD_BYTES = 4096


def run_folders(output_file: str | Path | None, pabot: bool = False) -> list[Path]:
    """The folders where a run's ``output.xml`` and so its sign-off land, without duplicates.

    ``output_file`` is Robot's ``${OUTPUT FILE}``: its folder. ``NONE`` (``--output NONE``)
    gives none: the run writes no output.xml, and the page beside the old one still matches
    it. ``pabot``: the run is a pabot worker, so pabot's ``--outputdir`` (above
    ``pabot_results``), where the merged output lands, is one too.
    """
    if not output_file or str(output_file).upper() == "NONE":
        return []
    folders = [Path(output_file).resolve().parent]
    if pabot:
        folders += [top for top in (pabot_outdir(folders[0]),) if top is not None]
    return list(dict.fromkeys(folders))


def pabot_outdir(worker_dir: Path) -> Path | None:
    """pabot's ``--outputdir`` for a worker writing into ``worker_dir`` (None if not under pabot_results)."""
    for folder in (worker_dir, *worker_dir.parents):
        if folder.name == PABOT_RESULTS:
            return folder.parent
    return None


def stale_files(folder: Path) -> list[Path]:
    """The sign-off pages and JUnit files in ``folder`` (not its subfolders), and the JUnit files
    those pages name wherever they are."""
    if not folder.is_dir():
        return []
    found: list[Path] = []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".html" and _is_page(path):
            found.append(path)
            named = _named_junit(path)
            if named is not None and _is_junit(named):
                found.append(named)
        elif path.suffix == ".xml" and _is_junit(path):
            found.append(path)
    return list(dict.fromkeys(found))


def remove_stale(folders: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """Remove the sign-off files in ``folders``; return (removed, one line per file that stayed).

    A file another process removed first (pabot workers clear the same folder) counts as gone.
    """
    removed: list[Path] = []
    problems: list[str] = []
    for folder in folders:
        for path in stale_files(folder):
            try:
                path.unlink(missing_ok=True)
            except OSError as error:
                problems.append(f"{path}: {error.strerror or error}")
            else:
                removed.append(path)
    return removed, problems


def clear_for_this_run() -> list[Path]:
    """Remove the sign-off files an earlier run left where this Robot run writes its output.

    Called from listener hooks while Robot runs; outside a run it does nothing. Removed files
    are named on the console; a file that cannot be removed is a warning (it would describe
    another run).
    """
    from robot.api import logger
    from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError

    try:
        variables = BuiltIn()
        output_file = variables.get_variable_value("${OUTPUT FILE}")
        pabot = variables.get_variable_value("${PABOTQUEUEINDEX}") is not None
    except RobotNotRunningError:
        return []
    removed, problems = remove_stale(run_folders(output_file, pabot))
    if removed:  # on the console too: before the first keyword, Robot's log has no place for it
        logger.info("Removed the sign-off files an earlier run left where this run writes its output: "
                    + ", ".join(str(p) for p in removed) + ".", also_console=True)
    for problem in problems:
        logger.warn(f"Expected to remove the sign-off file an earlier run left, as it describes another "
                    f"output.xml; it stays: {problem}.")
    return removed


def _head(path: Path, size: int = HEAD_BYTES) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(size).decode("utf-8", "replace")
    except OSError:  # gone meanwhile (another worker), or unreadable: not ours to judge
        return ""


def _is_page(path: Path) -> bool:
    if GENERATOR_META in _head(path):
        return True
    if path.name != LEGACY_PAGE:
        return False
    try:
        return FOOTER_MARK in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def _named_junit(page: Path) -> Path | None:
    head = _head(page)
    start = head.find(f'<meta name="{JUNIT_META_NAME}" content="')
    if start < 0:
        return None
    value = head[start:].split('content="', 1)[1].split('"', 1)[0]
    return page.parent / html.unescape(value) if value else None


def _is_junit(path: Path) -> bool:
    return JUNIT_ROOT in _head(path, 512)
