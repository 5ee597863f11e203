"""From an ``output.xml`` to the sign-off model: test IDs, their criteria, verdicts, evidence.

The model follows the run contract in ``docs/acceptance.md``:

* each suite's Documentation holds its criteria as a table, one row per criterion:
  ``| AC-007.1 | A responsive client stays connected ... |``;
* each test is tagged with its test ID (``WS-RESILIENCE-007``) and the criteria it proves
  (``AC-007.1``);
* suite metadata carries ``Test ID``, ``Target``, ``Server version``, ``Library version``,
  ``Thresholds``;
* figures are logged as ``wsr-figures`` tables (see :mod:`wsresilience.signoff.figures`).

A criterion's verdict comes from the tests tagged with it: FAIL if any failed, PASS if all
passed, SKIP (with the reasons) otherwise, NOT RUN if no test in the run carries the tag. Works
the same on a plain ``robot`` output and on pabot's merged one, because it reads tags and
documentation, not suite structure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

from robot.api import ExecutionResult, ResultVisitor
from robot.result import Message, TestCase, TestSuite

from wsresilience.core.masking import mask_text

from .charts import Chart, charts_in_html
from .figures import figures_in_html

TEST_ID = re.compile(r"^WS-[A-Z]+-(\d+)$", re.IGNORECASE)
CRITERION = re.compile(r"^AC-(\d+)\.(\d+)$", re.IGNORECASE)
METADATA_SHOWN = ("Target", "Protocol", "Server version", "Library version", "Thresholds")

PASS, FAIL, SKIP, NOT_RUN = "PASS", "FAIL", "SKIP", "NOT RUN"


@dataclass
class TestResult:
    """One executed test: enough to link it, judge it and show its figures."""

    id: str
    name: str
    longname: str
    status: str
    message: str
    tags: list[str]
    elapsed: timedelta
    figures: list[dict[str, object]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


@dataclass
class Criterion:
    """One acceptance criterion with the tests that prove it."""

    id: str
    requirement: str
    documented: bool = True
    tests: list[TestResult] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """FAIL if any test failed, PASS if all passed, SKIP if some skipped, NOT RUN if none ran."""
        statuses = {t.status for t in self.tests}
        if not statuses:
            return NOT_RUN
        if FAIL in statuses:
            return FAIL
        return PASS if statuses == {PASS} else SKIP

    @property
    def reasons(self) -> list[str]:
        """Failure messages (for FAIL) or skip reasons (for SKIP), one per test, deduplicated."""
        wanted = {FAIL: FAIL, SKIP: SKIP}.get(self.verdict)
        seen: dict[str, None] = {}
        for test in self.tests:
            if test.status == wanted:
                seen.setdefault(f"{test.name}: {test.message or '(no message)'}")
        return list(seen)

    def figures(self) -> list[tuple[TestResult, dict[str, object]]]:
        """Figures logged by this criterion's tests, keeping those for this criterion or none."""
        return [
            (test, fig)
            for test in self.tests
            for fig in test.figures
            if not fig["criterion"] or str(fig["criterion"]).upper() == self.id.upper()
        ]

    def charts(self) -> list[tuple[TestResult, Chart]]:
        """Charts logged by this criterion's tests, those of failed tests first."""
        ordered = sorted(self.tests, key=lambda t: t.status != FAIL)
        return [(test, chart) for test in ordered for chart in test.charts]


@dataclass
class TestIdSection:
    """One test ID (one suite in the normal case): its criteria, metadata and stray tests."""

    test_id: str
    title: str
    suite_ids: list[str]
    metadata: dict[str, str]
    criteria: list[Criterion]
    other_tests: list[TestResult]

    @property
    def number(self) -> int:
        match = re.search(r"(\d+)$", self.test_id)
        return int(match.group(1)) if match else 10**9

    @property
    def verdict(self) -> str:
        """FAIL on any failing criterion or stray test, PASS when every criterion passed."""
        verdicts = {c.verdict for c in self.criteria} | {t.status for t in self.other_tests}
        if FAIL in verdicts:
            return FAIL
        return PASS if verdicts <= {PASS} and self.criteria else "INCOMPLETE"


@dataclass
class SignOff:
    """Everything the page and the JUnit file show."""

    source: Path
    name: str
    generator: str
    start: datetime | None
    end: datetime | None
    totals: dict[str, int]
    run_metadata: dict[str, list[str]]
    sections: list[TestIdSection]
    untracked: list[TestResult]

    @property
    def criteria(self) -> list[Criterion]:
        return [c for s in self.sections for c in s.criteria]

    @property
    def verdict(self) -> str:
        """PASS only if every listed criterion passed and no test failed; FAIL on any failure;
        otherwise INCOMPLETE (something skipped or not run: not enough to sign off)."""
        if self.totals.get("failed") or any(s.verdict == FAIL for s in self.sections):
            return FAIL
        if self.sections and all(s.verdict == PASS for s in self.sections) and not self.totals.get("skipped"):
            return PASS
        return "INCOMPLETE"


def parse_criteria(doc: str) -> list[tuple[str, str]]:
    """``(criterion ID, requirement)`` for each documentation table row whose first cell is an ID.

    Extra columns are joined to the requirement with `` — `` so a threshold column is kept.
    Header rows (``| =Criterion= | =Requirement= |``) and other tables are ignored.
    """
    rows = []
    for line in doc.splitlines():
        line = line.strip()
        if not (line.startswith("|") and line.endswith("|")):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line[1:-1])]
        if cells and CRITERION.match(cells[0]):
            rows.append((cells[0].upper(), " — ".join(c for c in cells[1:] if c)))
    return rows


class _HtmlText(HTMLParser):
    """The text of an HTML fragment, with a line break at each br, hr, p, div, li and tr tag."""

    BREAKS = frozenset({"br", "hr", "p", "div", "li", "tr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_message(message: str) -> str:
    """A test's message as text: Robot's HTML messages (``*HTML* ...``) lose their markup.

    ``rebot --merge`` words a re-executed test's message in HTML (``*HTML* <span
    class="merge">Test has been re-executed and results merged.</span><hr>...``), and a
    keyword may fail with an HTML message too. The page and the JUnit file show text, so the
    reader gets the sentences, one per line, not the tags.
    """
    if not message.startswith("*HTML*"):
        return message
    parser = _HtmlText()
    parser.feed(message[len("*HTML*"):])
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


class _TestCollector(ResultVisitor):
    """Collects every test with the figures logged anywhere inside it (setup and teardown too)."""

    def __init__(self) -> None:
        self.tests: list[tuple[TestCase, TestResult]] = []
        self._current: TestResult | None = None

    def start_test(self, test: TestCase) -> bool | None:
        self._current = TestResult(
            id=test.id,
            name=test.name,
            longname=test.full_name,
            status=test.status,
            message=plain_message(test.message),
            tags=[str(t) for t in test.tags],
            elapsed=test.elapsed_time,
        )
        self.tests.append((test, self._current))
        return True

    def end_test(self, test: TestCase) -> None:
        self._current = None

    def visit_message(self, msg: Message) -> None:
        if self._current is not None and msg.html:
            parent = msg.parent
            keyword_id = str(getattr(parent, "id", "") or self._current.id)
            keyword_name = str(getattr(parent, "name", "") or "")
            for figure in figures_in_html(msg.message):
                figure["keyword"] = keyword_id
                self._current.figures.append(figure)
            self._current.charts.extend(charts_in_html(msg.message, keyword_id, keyword_name))


def load(output_xml: Path) -> SignOff:
    """Read ``output.xml`` (from ``robot``, ``rebot`` or pabot) into a :class:`SignOff`."""
    result = ExecutionResult(str(output_xml))
    collector = _TestCollector()
    result.visit(collector)
    tests = collector.tests
    suites = list(_all_suites(result.suite))

    declared: dict[str, list[TestSuite]] = {}
    for suite in suites:
        test_id = _declared_test_id(suite)
        if test_id:
            declared.setdefault(test_id, []).append(suite)
    tagged: dict[str, list[TestResult]] = {}
    for _, test in tests:
        for tag in test.tags:
            if TEST_ID.match(tag):
                tagged.setdefault(tag.upper(), []).append(test)

    by_criterion: dict[str, list[TestResult]] = {}
    for _, test in tests:
        for tag in test.tags:
            if CRITERION.match(tag):
                by_criterion.setdefault(tag.upper(), []).append(test)

    sections = []
    claimed: set[str] = set()
    for test_id in sorted(set(declared) | set(tagged), key=_id_number):
        owners = declared.get(test_id, [])
        criteria: dict[str, Criterion] = {}
        for suite in owners:
            for cid, requirement in parse_criteria(suite.doc):
                criteria.setdefault(cid, Criterion(cid, requirement))
        members = tagged.get(test_id, [])
        for test in members:
            for tag in test.tags:
                cid = tag.upper()
                if CRITERION.match(cid) and cid not in criteria:
                    criteria[cid] = Criterion(cid, "", documented=False)
        for criterion in criteria.values():
            criterion.tests = by_criterion.get(criterion.id, [])
            claimed.update(t.id for t in criterion.tests)
        ordered = sorted(criteria.values(), key=lambda c: (not c.documented, _criterion_key(c.id)))
        other = [t for t in members if not any(CRITERION.match(tag) for tag in t.tags)]
        claimed.update(t.id for t in other)
        metadata = _merged_metadata(owners or _suites_of(members, suites))
        sections.append(
            TestIdSection(
                test_id=test_id,
                title=", ".join(dict.fromkeys(s.name for s in owners)) or test_id,
                suite_ids=[s.id for s in owners],
                metadata=metadata,
                criteria=ordered,
                other_tests=other,
            )
        )

    stats = result.statistics.total
    start, end = _run_window(result.suite, [t for t, _ in tests])
    return SignOff(
        source=Path(output_xml),
        name=result.suite.name,
        generator=str(getattr(result, "generator", "") or ""),
        start=start,
        end=end,
        totals={"total": stats.total, "passed": stats.passed, "failed": stats.failed, "skipped": stats.skipped},
        run_metadata=_run_metadata(suites),
        sections=sections,
        untracked=[t for _, t in tests if t.id not in claimed],
    )


def _all_suites(suite: TestSuite) -> Iterable[TestSuite]:
    yield suite
    for child in suite.suites:
        yield from _all_suites(child)


def _declared_test_id(suite: TestSuite) -> str:
    """The suite's ``Test ID`` metadata, else one derived from its criteria table (AC-007 → 007)."""
    for key, value in suite.metadata.items():
        if key.lower().replace("_", " ") == "test id" and TEST_ID.match(str(value).strip()):
            return str(value).strip().upper()
    criteria = parse_criteria(suite.doc)
    if not criteria:
        return ""
    tags = {str(tag).upper() for test in suite.tests for tag in test.tags if TEST_ID.match(str(tag))}
    if len(tags) == 1:
        return tags.pop()
    number = CRITERION.match(criteria[0][0]).group(1)  # type: ignore[union-attr]
    return f"WS-RESILIENCE-{number}"


def _suites_of(tests: list[TestResult], suites: list[TestSuite]) -> list[TestSuite]:
    ids = {t.id.rsplit("-t", 1)[0] for t in tests}
    return [s for s in suites if s.id in ids]


def _merged_metadata(suites: list[TestSuite]) -> dict[str, str]:
    merged: dict[str, list[str]] = {}
    for suite in suites:
        for key, value in suite.metadata.items():
            values = merged.setdefault(str(key), [])
            if mask_text(str(value)) not in values:
                values.append(mask_text(str(value)))
    return {key: " | ".join(values) for key, values in merged.items()}


def _run_metadata(suites: list[TestSuite]) -> dict[str, list[str]]:
    """Distinct values of the shown metadata keys across all suites, in first-seen order."""
    found: dict[str, list[str]] = {key: [] for key in METADATA_SHOWN}
    for suite in suites:
        for key, value in suite.metadata.items():
            for wanted in METADATA_SHOWN:
                if key.lower() == wanted.lower() and wanted != "Thresholds":
                    masked = mask_text(str(value))
                    if masked not in found[wanted]:
                        found[wanted].append(masked)
    return {key: values for key, values in found.items() if values}


def _run_window(suite: TestSuite, tests: list[TestCase]) -> tuple[datetime | None, datetime | None]:
    starts = [t.start_time for t in tests if t.start_time] + ([suite.start_time] if suite.start_time else [])
    ends = [t.end_time for t in tests if t.end_time] + ([suite.end_time] if suite.end_time else [])
    return (min(starts) if starts else None, max(ends) if ends else None)


def _id_number(test_id: str) -> tuple[int, str]:
    match = TEST_ID.match(test_id)
    return (int(match.group(1)) if match else 10**9, test_id)


def _criterion_key(cid: str) -> tuple[int, int]:
    match = CRITERION.match(cid)
    return (int(match.group(1)), int(match.group(2))) if match else (10**9, 0)
