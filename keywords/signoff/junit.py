"""The sign-off as JUnit XML for CI systems: one ``testcase`` per acceptance criterion.

Each test ID is a ``testsuite`` (its suite metadata as ``properties``); each criterion a
``testcase`` named ``AC-007.2: <requirement>`` with ``classname`` the test ID. FAIL maps to
``<failure>`` (message: the failing tests and their messages), SKIP to ``<skipped>`` with the
reasons, NOT RUN to ``<skipped message="not run: ...">``. The figures go to ``system-out``.
Tests that no criterion claims are reported in an extra ``untracked`` suite, so a failure
never hides from CI.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from wsresilience.core.evidence.figures import fmt

from .model import FAIL, NOT_RUN, SKIP, Criterion, SignOff, TestResult


def write_junit(signoff: SignOff, path: Path) -> Path:
    """Write the JUnit XML file and return its path."""
    root = ET.Element("testsuites", name=f"Sign-off: {signoff.name}")
    totals = {"tests": 0, "failures": 0, "skipped": 0, "time": 0.0}
    for section in signoff.sections:
        suite = _suite(root, section.test_id, signoff)
        for key, value in section.metadata.items():
            props = suite.find("properties")
            if props is None:
                props = ET.SubElement(suite, "properties")
            ET.SubElement(props, "property", name=key, value=value)
        for criterion in section.criteria:
            _criterion_case(suite, section.test_id, criterion)
        for test in section.other_tests:
            _test_case(suite, section.test_id, test)
        _close(suite, totals)
    if signoff.untracked:
        suite = _suite(root, "untracked", signoff)
        for test in signoff.untracked:
            _test_case(suite, "untracked", test)
        _close(suite, totals)
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("skipped", str(totals["skipped"]))
    root.set("errors", "0")
    root.set("time", f"{totals['time']:.3f}")
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def _suite(root: ET.Element, name: str, signoff: SignOff) -> ET.Element:
    suite = ET.SubElement(root, "testsuite", name=name)
    if signoff.start:
        suite.set("timestamp", signoff.start.isoformat(timespec="seconds"))
    return suite


def _criterion_case(suite: ET.Element, classname: str, criterion: Criterion) -> None:
    name = f"{criterion.id}: {criterion.requirement}" if criterion.requirement else criterion.id
    seconds = sum(t.elapsed.total_seconds() for t in criterion.tests)
    case = ET.SubElement(suite, "testcase", classname=classname, name=name, time=f"{seconds:.3f}")
    verdict = criterion.verdict
    if verdict == FAIL:
        failure = ET.SubElement(case, "failure", type="FAIL", message="; ".join(criterion.reasons))
        failure.text = "\n".join(criterion.reasons)
    elif verdict == SKIP:
        ET.SubElement(case, "skipped", message="; ".join(criterion.reasons))
    elif verdict == NOT_RUN:
        ET.SubElement(case, "skipped", message=f"not run: no test in this run is tagged {criterion.id}")
    lines = [f"{t.status} {t.longname}" for t in criterion.tests]
    lines += [_describe(f) for _, f in criterion.figures()]
    if lines:
        ET.SubElement(case, "system-out").text = "\n".join(lines)


def _test_case(suite: ET.Element, classname: str, test: TestResult) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=classname, name=test.longname, time=f"{test.elapsed.total_seconds():.3f}"
    )
    if test.status == FAIL:
        ET.SubElement(case, "failure", type="FAIL", message=test.message).text = test.message
    elif test.status != "PASS":
        ET.SubElement(case, "skipped", message=test.message)


def _close(suite: ET.Element, totals: dict[str, float]) -> None:
    cases = suite.findall("testcase")
    counts = {
        "tests": len(cases),
        "failures": sum(c.find("failure") is not None for c in cases),
        "skipped": sum(c.find("skipped") is not None for c in cases),
        "time": sum(float(c.get("time", 0)) for c in cases),
    }
    for key, value in counts.items():
        suite.set(key, f"{value:.3f}" if key == "time" else str(value))
        totals[key] += value
    suite.set("errors", "0")
    props = suite.find("properties")
    if props is not None:  # JUnit schema: properties first
        suite.remove(props)
        suite.insert(0, props)


def _describe(f: dict[str, object]) -> str:
    """One line per figure: ``PASS RTT p95 = 3.2 ms (threshold < 100 ms, margin 96.8 ms)``."""
    value, threshold, tolerance, margin = (float(f[k]) for k in ("value", "threshold", "tolerance", "margin"))  # type: ignore[arg-type]
    unit = f" {f['unit']}" if f["unit"] else ""
    bound = f"{fmt(threshold)} ± {fmt(tolerance)}" if f["comparison"] == "within" else f"{f['comparison']} {fmt(threshold)}"
    return f"{f['verdict']} {f['name']} = {fmt(value)}{unit} (threshold {bound}{unit}, margin {fmt(margin)}{unit})"
