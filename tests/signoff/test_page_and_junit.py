"""The sign-off generator on real output.xml files from tiny crafted suites (robot and pabot)."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from robot.api import ExecutionResult, ResultVisitor

from wsresilience.signoff import write_signoff
from wsresilience.signoff.figures import figures_in_html
from wsresilience.core.masking import mask_text
from wsresilience.signoff.model import parse_criteria

from support.signoff_fixtures import REPO, SECRET, parse_page, run_pabot, run_robot

def text_of(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def sections(page: ET.Element) -> dict[str, ET.Element]:
    return {s.get("data-test-id"): s for s in page.iter("section") if s.get("data-test-id")}


def criteria(page: ET.Element) -> dict[str, ET.Element]:
    return {t.get("id"): t for t in page.iter("tbody") if t.get("data-verdict")}


def overall(page: ET.Element) -> str:
    return next(d.get("data-verdict") for d in page.iter("div") if d.get("id") == "overall")


def figure_names(criterion: ET.Element) -> list[str]:
    return [text_of(row.find("td/span")) for row in criterion.iter("tr") if row.get("class") == "figure"]


def figure_keywords(result: object) -> set[str]:
    """Ids of the keywords in a result that logged a figure table (what the page's log links open)."""
    found: set[str] = set()

    class Visitor(ResultVisitor):
        def visit_message(self, msg: object) -> None:
            if "wsr-figures" in msg.message:  # type: ignore[attr-defined]
                found.add(msg.parent.id)  # type: ignore[attr-defined]

    result.visit(Visitor())  # type: ignore[attr-defined]
    return found


@pytest.fixture(scope="module")
def all_pass(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = run_robot(tmp_path_factory.mktemp("pass"))
    write_signoff(output, xunit="junit.xml")
    return output


def test_all_pass(all_pass: Path) -> None:
    page = parse_page(all_pass.parent / "signoff.html")
    assert overall(page) == "PASS"
    assert list(sections(page)) == ["WS-RESILIENCE-001", "WS-RESILIENCE-002", "WS-RESILIENCE-006", "WS-RESILIENCE-007"]
    verdicts = {cid: c.get("data-verdict") for cid, c in criteria(page).items()}
    assert verdicts == {cid: "PASS" for cid in ("AC-001.1", "AC-002.1", "AC-006.1", "AC-006.2", "AC-007.1", "AC-007.2")}
    requirement = text_of(criteria(page)["AC-007.2"])
    assert "closed within interval + timeout + 250 ms" in requirement


def test_links_point_at_the_tests_in_log(all_pass: Path) -> None:
    page = parse_page(all_pass.parent / "signoff.html")
    ids = {t.id: t.name for t in ExecutionResult(str(all_pass)).suite.all_tests}
    links = [a for c in criteria(page).values() for td in c.iter("td") if td.get("class") == "tests"
             for a in td.iter("a")]
    assert len(links) == len(ids)
    for link in links:
        target, _, anchor = link.get("href").partition("#")
        assert target == "log.html"
        assert ids[anchor] == text_of(link)


def test_figures_filtered_by_criterion(all_pass: Path) -> None:
    rows = criteria(parse_page(all_pass.parent / "signoff.html"))
    assert figure_names(rows["AC-007.1"]) == ["RTT p95", "pings answered"]
    assert figure_names(rows["AC-007.2"]) == ["close after silence"]  # not "unrelated RTT" (AC-007.1)
    cells = [text_of(td) for td in next(r for r in rows["AC-007.1"].iter("tr") if r.get("class") == "figure")]
    assert cells[:5] == ["RTT p95 log", "3.2 ms", "< 100 ms", "+96.8 ms", "PASS"]


def test_run_metadata_is_shown_and_secrets_masked(all_pass: Path) -> None:
    html = (all_pass.parent / "signoff.html").read_text()
    assert SECRET not in html
    run = next(t for t in parse_page(all_pass.parent / "signoff.html").iter("table") if t.get("id") == "run")
    rows = {text_of(r.find("th")): text_of(r.find("td")) for r in run.iter("tr")}
    assert rows["Target"] == "ws://qa:***@127.0.0.1:8765/ws?token=***"
    assert rows["Server version"] == "refserver 0.1.0" and rows["Library version"] == "0.1.0"
    assert rows["Started"][:4].isdigit() and rows["Finished"] >= rows["Started"]
    section = sections(parse_page(all_pass.parent / "signoff.html"))["WS-RESILIENCE-007"]
    assert "RTT p95 < 100 ms; close within interval + timeout + 250 ms" in text_of(section)


def test_page_is_self_contained(all_pass: Path) -> None:
    page = parse_page(all_pass.parent / "signoff.html")
    assert not list(page.iter("script")) and not list(page.iter("link"))
    assert all(not (img.get("src") or "").startswith("http") for img in page.iter("img"))
    assert list(page.iter("style"))


def test_junit_all_pass(all_pass: Path) -> None:
    root = ET.parse(all_pass.parent / "junit.xml").getroot()
    assert root.tag == "testsuites" and root.get("tests") == "6" and root.get("failures") == "0"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["WS-RESILIENCE-001", "WS-RESILIENCE-002", "WS-RESILIENCE-006", "WS-RESILIENCE-007"]
    cases = suites["WS-RESILIENCE-007"].findall("testcase")
    assert [c.get("name").split(":")[0] for c in cases] == ["AC-007.1", "AC-007.2"]
    assert all(c.find("failure") is None and c.find("skipped") is None for c in cases)
    assert "RTT p95 = 3.2 ms (threshold < 100 ms" in cases[0].findtext("system-out")


def test_one_failure(tmp_path: Path) -> None:
    output = run_robot(tmp_path, variable=["FAIL_ZOMBIE:True"])
    write_signoff(output, xunit=tmp_path / "ci" / "junit.xml")
    page = parse_page(output.parent / "signoff.html")
    assert overall(page) == "FAIL"
    rows = criteria(page)
    assert rows["AC-007.2"].get("data-verdict") == "FAIL"
    assert rows["AC-007.1"].get("data-verdict") == "PASS"
    assert "still open after 3.75 s" in text_of(rows["AC-007.2"])
    assert "FAIL" in text_of(sections(page)["WS-RESILIENCE-007"].find("header"))
    assert "PASS" in text_of(sections(page)["WS-RESILIENCE-006"].find("header"))
    root = ET.parse(tmp_path / "ci" / "junit.xml").getroot()
    assert root.get("failures") == "1"
    failed = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name").split(":")[0] for c in failed] == ["AC-007.2"]
    assert "still open after 3.75 s" in failed[0].find("failure").get("message")


def test_skip_with_reason(tmp_path: Path) -> None:
    output = run_robot(tmp_path, variable=["NO_METRICS:True"])
    write_signoff(output, xunit="junit.xml")
    page = parse_page(output.parent / "signoff.html")
    assert overall(page) == "INCOMPLETE"
    row = criteria(page)["AC-006.2"]
    assert row.get("data-verdict") == "SKIP"
    assert "Target has no metrics endpoint (METRICS_URL unset)" in text_of(row)
    skipped = [c for c in ET.parse(output.parent / "junit.xml").getroot().iter("testcase") if c.find("skipped") is not None]
    assert len(skipped) == 1 and "no metrics endpoint" in skipped[0].find("skipped").get("message")


def test_only_some_test_ids_and_criteria_not_run(tmp_path: Path) -> None:
    output = run_robot(tmp_path, names=("heartbeat.robot", "resume.robot"), include=["AC-007.1", "AC-002.1"])
    write_signoff(output, xunit="junit.xml")
    page = parse_page(output.parent / "signoff.html")
    assert list(sections(page)) == ["WS-RESILIENCE-002", "WS-RESILIENCE-007"]
    rows = criteria(page)
    assert {cid: r.get("data-verdict") for cid, r in rows.items()} == {
        "AC-002.1": "PASS", "AC-007.1": "PASS", "AC-007.2": "NOT RUN",
    }
    assert "no test in this run carries this tag" in text_of(rows["AC-007.2"])
    assert overall(page) == "INCOMPLETE"
    cases = {c.get("name").split(":")[0]: c for c in ET.parse(output.parent / "junit.xml").getroot().iter("testcase")}
    assert set(cases) == {"AC-002.1", "AC-007.1", "AC-007.2"}
    assert cases["AC-007.2"].find("skipped").get("message").startswith("not run")


@pytest.mark.parametrize("split", [(), ("--testlevelsplit",)], ids=["suites", "testlevelsplit"])
def test_pabot_merged_output(tmp_path: Path, split: tuple[str, ...]) -> None:
    output = run_pabot(tmp_path, *split)
    write_signoff(output, xunit="junit.xml")
    page = parse_page(output.parent / "signoff.html")
    assert list(sections(page)) == ["WS-RESILIENCE-006", "WS-RESILIENCE-007"]
    rows = criteria(page)
    assert {cid: r.get("data-verdict") for cid, r in rows.items()} == {
        "AC-006.1": "PASS", "AC-006.2": "PASS", "AC-007.1": "PASS", "AC-007.2": "FAIL",
    }
    assert figure_names(rows["AC-007.2"]) == ["close after silence"]
    result = ExecutionResult(str(output))
    ids = {t.id: t.name for t in result.suite.all_tests}
    for link in (a for r in rows.values() for td in r.iter("td") if td.get("class") == "tests" for a in td.iter("a")):
        assert ids[link.get("href").partition("#")[2]] == text_of(link)
    keywords = figure_keywords(result)
    log_links = [a for r in rows.values() for a in r.iter("a") if a.get("class") == "log"]
    assert log_links and all(a.get("href").partition("#")[2] in keywords for a in log_links)
    assert overall(page) == "FAIL"


def test_cli_writes_page_and_junit(all_pass: Path, tmp_path: Path) -> None:
    junit = tmp_path / "signoff-junit.xml"
    done = subprocess.run(
        [sys.executable, "-m", "wsresilience.signoff", str(all_pass), "--xunit", str(junit), "--log", "NONE"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Sign-off: PASS" in done.stdout
    assert ET.parse(junit).getroot().get("tests") == "6"
    assert not [a for a in parse_page(all_pass.parent / "signoff.html").iter("a") if "log.html#" in a.get("href", "")]


def test_cli_reports_a_missing_file(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wsresilience.signoff", str(tmp_path / "nope.xml")],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert "not found" in done.stderr and "Traceback" not in done.stderr


def test_parse_criteria_table() -> None:
    doc = "Intro.\n\n| =Criterion= | =Requirement= |\n| AC-007.1 | Stays *open* | 5 intervals |\n| other | row |"
    assert parse_criteria(doc) == [("AC-007.1", "Stays *open* — 5 intervals")]


def test_figures_in_html_reads_the_contract() -> None:
    from wsresilience.core.evidence.figures import Figure, figure_table

    html = figure_table([Figure("p95 \"rtt\" <ms>", 3.0, "ms", 100.0, "<", "AC-007.1")])
    [figure] = figures_in_html(f"<p>before</p>{html}")
    assert figure["name"] == 'p95 "rtt" <ms>' and figure["criterion"] == "AC-007.1"
    assert figure["margin"] == 97.0 and figure["verdict"] == "PASS"
    assert figures_in_html("<table class='wsr-figures' data-figures=\"not json\"></table>") == []


def test_mask_text() -> None:
    assert mask_text("wss://u:pw@h:1/p?a=1&token=xyz") == "wss://u:***@h:1/p?a=1&token=***"
    assert mask_text("ws://127.0.0.1:80/ws") == "ws://127.0.0.1:80/ws"


def test_rebot_merged_rerun(tmp_path: Path) -> None:
    """A failed run, a rerun of its failures, and ``rebot --merge``: the merged verdict wins."""
    import robot

    first = run_robot(tmp_path / "first", variable=["FAIL_ZOMBIE:True"])
    rerun = run_robot(tmp_path / "rerun", rerunfailed=str(first))
    merged = tmp_path / "merged" / "output.xml"
    robot.rebot(str(first), str(rerun), merge=True, output=str(merged), log=str(merged.parent / "log.html"),
                report="NONE", console="none")
    write_signoff(merged)
    page = parse_page(merged.parent / "signoff.html")
    rows = criteria(page)
    assert rows["AC-007.2"].get("data-verdict") == "PASS"
    assert len(rows) == 6 and overall(page) == "PASS"


def test_a_rerun_that_fails_again_reads_as_sentences(tmp_path: Path) -> None:
    """rebot --merge words a re-executed test's message in HTML (``*HTML* <span ...>``): the page
    and the JUnit file show its text, line by line, not its markup."""
    import robot

    first = run_robot(tmp_path / "first", variable=["FAIL_ZOMBIE:True"])
    rerun = run_robot(tmp_path / "rerun", rerunfailed=str(first), variable=["FAIL_ZOMBIE:True"])
    merged = tmp_path / "merged" / "output.xml"
    robot.rebot(str(first), str(rerun), merge=True, output=str(merged), log="NONE", report="NONE", console="none")
    write_signoff(merged, xunit="junit.xml")
    [reasons] = [u for u in criteria(parse_page(merged.parent / "signoff.html"))["AC-007.2"].iter("ul")
                 if "reasons" in u.get("class", "")]
    zombie = "Zombie was not closed within 1.25 s: still open after 3.75 s"
    assert "".join(reasons.itertext()).splitlines() == [
        "Zombie Client Is Terminated: Test has been re-executed and results merged.",
        "New status: FAIL", f"New message: {zombie}", "Old status: FAIL", f"Old message: {zombie}",
    ]
    [failure] = ET.parse(merged.parent / "junit.xml").getroot().iter("failure")
    assert failure.get("message").startswith("Zombie Client Is Terminated: Test has been re-executed")
    assert "<" not in failure.get("message") and "*HTML*" not in failure.get("message")
