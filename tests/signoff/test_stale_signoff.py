"""A sign-off page matches the output.xml beside it, or there is none.

The hole: ``robot --include AC-007.2 suites`` (no listener) into ``results/`` rewrote
``output.xml`` and left the previous full run's ``signoff.html`` beside it, still saying PASS
for tests this run never ran. Each test here first writes a page for a full run, then runs
again into the same output directory and reads what is left: no page, or one that says what
the new ``output.xml`` says. The runs are real ``robot`` and ``pabot`` runs; the crafted
suites import ``wsresilience.WebSocketResilience`` as the real suites do.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from wsresilience.signoff import load, write_signoff
from wsresilience.signoff.junit import write_junit
from wsresilience.signoff.stale import GENERATOR, run_folders, stale_files

from support import REPO, SUITES
from support.signoff_fixtures import run_pabot, run_robot

LISTENER = "wsresilience.SignOffListener"
PAGE, JUNIT = "signoff.html", "signoff-junit.xml"
OVERALL = re.compile(r"id='overall' data-verdict='([A-Z ]+)'.*?(\d+) tests:", re.S)


def page_says(page: Path) -> tuple[str, int]:
    """(overall verdict, number of tests) as the page states them in its verdict box."""
    match = OVERALL.search(page.read_text(encoding="utf-8"))
    assert match, f"{page}: no overall verdict box"
    return match.group(1), int(match.group(2))


def stale_signoff(outdir: Path) -> list[str]:
    """One line per sign-off file in ``outdir`` that does not describe ``outdir/output.xml``.

    The page's verdict and test count, and the JUnit file's counts, are compared with what
    the output.xml now beside them holds (the JUnit file regenerated from it to compare).
    """
    output = outdir / "output.xml"
    signoff = load(output)
    found = []
    page = outdir / PAGE
    if page.exists():
        says = page_says(page)
        holds = (signoff.verdict, signoff.totals["total"])
        if says != holds:
            found.append(f"{page} says {says[0]} for {says[1]} tests; the output.xml beside it holds "
                         f"{holds[1]} tests ({holds[0]})")
    junit = outdir / JUNIT
    if junit.exists():
        counts = ("tests", "failures", "skipped")
        left = ET.parse(junit).getroot()
        now = ET.parse(write_junit(signoff, outdir.parent / f"{outdir.name}-fresh-junit.xml")).getroot()
        if [left.get(c) for c in counts] != [now.get(c) for c in counts]:
            found.append(f"{junit} counts {[left.get(c) for c in counts]} (tests, failures, skipped); the "
                         f"output.xml beside it gives {[now.get(c) for c in counts]}")
    return found


def test_a_filtered_robot_run_leaves_no_stale_signoff(tmp_path: Path) -> None:
    full = run_robot(tmp_path, library=True, listener=LISTENER)
    assert page_says(full.parent / PAGE) == ("PASS", 6) and (full.parent / JUNIT).is_file()

    rerun = run_robot(tmp_path, library=True, include=["AC-007.2"])  # the same outdir, no listener

    assert load(rerun).totals["total"] == 1, "the filtered run did not rewrite output.xml"
    assert not (stale := stale_signoff(rerun.parent)), "\n".join(stale)
    assert not (rerun.parent / PAGE).exists() and not (rerun.parent / JUNIT).exists()


def test_a_filtered_pabot_run_leaves_no_stale_signoff(tmp_path: Path) -> None:
    full = run_pabot(tmp_path, fail_zombie=False, library=True)
    done = subprocess.run([sys.executable, "-m", "wsresilience.signoff", str(full), "--xunit", JUNIT],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert page_says(full.parent / PAGE) == ("PASS", 4) and (full.parent / JUNIT).is_file()

    merged = run_pabot(tmp_path, "--include", "AC-007.2", fail_zombie=False, library=True)

    assert load(merged).totals["total"] == 1, "the filtered pabot run did not rewrite output.xml"
    assert not (stale := stale_signoff(merged.parent)), "\n".join(stale)
    assert not (merged.parent / PAGE).exists() and not (merged.parent / JUNIT).exists()


def test_the_listener_clears_too_when_the_suites_do_not_import_the_library(tmp_path: Path) -> None:
    """pabot with ``--listener wsresilience.SignOffListener``: each worker writes a page for its
    own output in ``pabot_results/<n>/``; the merged output's folder keeps no earlier page."""
    full = run_pabot(tmp_path, fail_zombie=False)
    done = subprocess.run([sys.executable, "-m", "wsresilience.signoff", str(full), "--xunit", JUNIT],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert page_says(full.parent / PAGE) == ("PASS", 4)

    merged = run_pabot(tmp_path, "--listener", LISTENER, "--include", "AC-007.2",
                       fail_zombie=False)

    assert load(merged).totals["total"] == 1, "the filtered pabot run did not rewrite output.xml"
    assert not (stale := stale_signoff(merged.parent)), "\n".join(stale)
    assert [page_says(page) for page in merged.parent.glob(f"pabot_results/*/{PAGE}")] == [("INCOMPLETE", 1)]


def test_with_the_listener_a_filtered_run_gets_its_own_page(tmp_path: Path) -> None:
    run_robot(tmp_path, library=True, listener=LISTENER)
    rerun = run_robot(tmp_path, library=True, listener=LISTENER, include=["AC-007.2"])

    assert page_says(rerun.parent / PAGE) == ("INCOMPLETE", 1)
    assert not (stale := stale_signoff(rerun.parent)), "\n".join(stale)


def test_the_issue_command_on_the_real_suites(tmp_path: Path) -> None:
    """``robot --include AC-007.2 suites`` into a folder holding a full run's PASS page."""
    full = run_robot(tmp_path / "crafted", library=True, listener=LISTENER)
    results = tmp_path / "results"
    results.mkdir()
    for name in (PAGE, JUNIT):
        shutil.copy(full.parent / name, results / name)
    assert page_says(results / PAGE) == ("PASS", 6)

    done = subprocess.run([sys.executable, "-m", "robot", "--console", "none", "--outputdir", str(results),
                           "--include", "AC-007.2", str(SUITES)],
                          cwd=results, capture_output=True, text=True, timeout=300)

    tests = load(results / "output.xml").sections
    assert [s.test_id for s in tests] == ["WS-RESILIENCE-007"], done.stdout[-2000:] + done.stderr[-2000:]
    assert not (stale := stale_signoff(results)), "\n".join(stale)
    assert not (results / PAGE).exists() and not (results / JUNIT).exists()


def test_files_that_are_not_sign_off_files_are_kept(tmp_path: Path) -> None:
    """Only files the sign-off wrote go: a page or JUnit file of the user's own stays."""
    out = tmp_path / "out"
    out.mkdir()
    own_page = "<!DOCTYPE html><html><body><h1>Our own sign-off notes</h1></body></html>"
    own_junit = "<?xml version='1.0'?><testsuites name='nightly'><testsuite name='x' tests='0'/></testsuites>"
    (out / PAGE).write_text(own_page)
    (out / JUNIT).write_text(own_junit)

    run_robot(tmp_path, library=True, include=["AC-007.2"])

    assert (out / PAGE).read_text() == own_page and (out / JUNIT).read_text() == own_junit


def test_a_run_that_writes_no_output_keeps_the_page_of_the_output_there(tmp_path: Path) -> None:
    """``--output NONE`` leaves output.xml alone, so the page beside it still matches it."""
    full = run_robot(tmp_path, library=True, listener=LISTENER)
    page = (full.parent / PAGE).read_text()

    run_robot(tmp_path, library=True, include=["AC-007.2"], output="NONE")

    assert (full.parent / PAGE).read_text() == page and page_says(full.parent / PAGE) == ("PASS", 6)
    assert not (stale := stale_signoff(full.parent)), "\n".join(stale)


def test_which_files_count_as_sign_off_files(tmp_path: Path) -> None:
    """Pages by their mark (a ``signoff.html`` of before the mark by its footer), JUnit files by
    their root, the JUnit file a page names wherever it is; nothing of the user's own."""
    output = run_robot(tmp_path, names=("heartbeat.robot",))
    out = output.parent
    write_signoff(output, html_name="custom.html", xunit="ci/junit.xml")
    write_signoff(output, xunit="loose-junit.xml")
    marked = (out / PAGE).read_text()
    (out / PAGE).write_text("\n".join(line for line in marked.splitlines() if "<meta name=" not in line))
    (out / "notes.html").write_text(f"<p>See the footer: by <code>python -m {GENERATOR}</code></p>")
    (out / "robot-xunit.xml").write_text("<?xml version='1.0'?><testsuite name='Sign-off: no'/>")

    found = {p.relative_to(out).as_posix() for p in stale_files(out)}

    assert found == {"custom.html", "ci/junit.xml", PAGE, "loose-junit.xml"}
    assert {"log.html", "report.html", "output.xml", "notes.html", "robot-xunit.xml"} <= {p.name for p in out.iterdir()}


def test_the_folders_a_run_clears(tmp_path: Path) -> None:
    results = tmp_path / "results"
    assert run_folders(results / "output.xml") == [results.resolve()]
    assert run_folders("NONE") == [] and run_folders(None, pabot=True) == []
    worker = results / "pabot_results" / "3" / "output.xml"
    assert run_folders(worker, pabot=True) == [worker.parent.resolve(), results.resolve()]
    with_argfile = results / "pabot_results" / "1" / "3" / "output.xml"
    assert run_folders(with_argfile, pabot=True) == [with_argfile.parent.resolve(), results.resolve()]
    assert run_folders(worker) == [worker.parent.resolve()]  # not a pabot worker: its own folder only
