"""The documents stand alone and agree with the code.

A user who cloned the repository must find every criterion, every seeded defect and every
run-contract variable inside it: ``docs/acceptance.md`` is the criteria document, README is
the way in, and nothing points outside the checkout. These checks read the files as text
(and the suites with Robot's parser), so a defect, a variable or a criterion added to the
code without its row in the documents fails here, naming what is missing and where.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from robot.api import TestSuite as RobotSuite

from support import REPO, SUITES

ACCEPTANCE = REPO / "docs" / "acceptance.md"
README = REPO / "README.md"
DOCUMENTS = [README, *sorted((REPO / "docs").glob("*.md")), *sorted((REPO / "bench").glob("*.md"))]
SUITE_FILES = sorted(SUITES.glob("ws_resilience_*.robot"))
#: Where the project's text lives (code comments and docstrings included); .venv, results … are not.
SOURCE_FOLDERS = ("keywords", "refserver", "faultproxy", "resources", "suites", "tests", "bench", "docs")

#: Variables the suites read from the command line that live outside the run-contract section
#: of thresholds.resource, and those the issue "Point the suites at your own service" names.
#: Each must have a row in both run-contract tables.
CONTRACT_VARIABLES = {
    "WS_URL", "SERVER_DEFECT", "SERVER_PING_INTERVAL", "SERVER_PING_TIMEOUT", "METRICS_URL",
    "SERVER_PID", "CONNECTIONS_METRIC", "SERVER_CLOSE_TIMEOUT", "TOXIPROXY_URL", "SESSION_TTL",
    "WS_MAX_MESSAGE_SIZE", "WS_CA_FILE", "WS_VERIFY_TLS", "AUTH_JWT_SECRET", "AUTH_JWT_ISSUER",
    "AUTH_JWT_AUDIENCE", "AUTH_JWT_ALGORITHM", "AUTH_TOKEN_COMMAND", "SERVER_COMMAND",
}


def defect_names() -> list[str]:
    """Every seeded defect's name, read from refserver/defects.py (the ``Defect`` enum)."""
    from wsresilience.refserver.defects import DEFECTS

    return list(DEFECTS)


def run_contract_section_variables() -> set[str]:
    """The variables of thresholds.resource's run-contract section (up to the next ``# ====``)."""
    text = (REPO / "resources" / "thresholds.resource").read_text(encoding="utf-8")
    section = text.split("# ==== The run contract", 1)[1].split("\n# ====", 1)[0]
    return set(re.findall(r"^[$@&]\{(\w+)\}", section, flags=re.MULTILINE))


def table_first_cells(markdown: str, heading: str) -> str:
    """The first column of every table row under ``heading`` (up to the next heading of its level)."""
    level = heading.split(" ", 1)[0]
    assert heading in markdown, f"no heading {heading!r}"
    body = markdown.split(heading, 1)[1]
    body = re.split(rf"^{level} ", body, maxsplit=1, flags=re.MULTILINE)[0]
    return "\n".join(line.split("|")[1] for line in body.splitlines() if line.startswith("|"))


def section(markdown: str, test_id: str) -> str:
    """The ``## …`` section of ``markdown`` whose heading names ``test_id``."""
    match = re.search(rf"^## [^\n]*{test_id}\b.*?(?=^## |\Z)", markdown, flags=re.MULTILINE | re.DOTALL)
    assert match, f"docs/acceptance.md: no section heading naming {test_id}"
    return match.group(0)


def test_acceptance_document_exists_in_the_repository() -> None:
    assert ACCEPTANCE.is_file(), f"expected the criteria document at {ACCEPTANCE.relative_to(REPO)}, found none"


@pytest.mark.parametrize("document", [README, ACCEPTANCE], ids=["README", "acceptance"])
def test_every_seeded_defect_has_a_row(document: Path) -> None:
    text = document.read_text(encoding="utf-8") if document.is_file() else ""
    rows = {m.group(1) for m in re.finditer(r"^\|\s*`([a-z-]+)`\s*\|", text, flags=re.MULTILINE)}
    missing = [name for name in defect_names() if name not in rows]
    assert not missing, f"{document.relative_to(REPO)}: expected a defect table row for each of {missing}, found none"


@pytest.mark.parametrize("document", [README, ACCEPTANCE], ids=["README", "acceptance"])
def test_run_contract_table_lists_every_variable(document: Path) -> None:
    text = document.read_text(encoding="utf-8") if document.is_file() else ""
    heading = "### The run contract" if document == README else "## 1. The run contract"
    cells = table_first_cells(text, heading) if heading in text else ""
    listed = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", cells))
    expected = run_contract_section_variables() | CONTRACT_VARIABLES
    missing = sorted(expected - listed)
    assert not missing, f"{document.relative_to(REPO)}, '{heading}': expected rows for {missing}, found none"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_link_points_outside_the_repository(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    outside = []
    for target in re.findall(r"\]\(([^)#\s]+)[^)]*\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        resolved = (document.parent / target).resolve()
        if not resolved.is_relative_to(REPO) or not resolved.exists():
            outside.append(target)
    outside += re.findall(r"(?:\.\./)+shared\S*|/work/\S+", text)
    assert not outside, f"{document.relative_to(REPO)}: links to files outside the checkout or missing: {outside}"


def test_nothing_cites_the_criteria_document_outside_the_repository() -> None:
    """``ACCEPTANCE.md`` was the name of the criteria document outside the repository."""
    cited = []
    paths = [README, *(path for folder in SOURCE_FOLDERS for path in sorted((REPO / folder).rglob("*")))]
    for path in paths:
        if path.suffix in {".py", ".robot", ".resource", ".md"} and path != Path(__file__):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if "ACCEPTANCE.md" in line:
                    cited.append(f"{path.relative_to(REPO)}:{number}")
    assert not cited, f"expected docs/acceptance.md cited, found ACCEPTANCE.md at {cited}"


@pytest.mark.parametrize("path", SUITE_FILES, ids=[p.stem for p in SUITE_FILES])
def test_suite_documentation_cites_its_section_and_its_criteria(path: Path) -> None:
    suite = RobotSuite.from_file_system(str(path))
    test_id = suite.metadata["Test ID"]
    pointer = f"Criteria: docs/acceptance.md, section {test_id}"
    assert pointer in suite.doc, f"{path.name}: expected '{pointer}' in the Documentation, found none"
    number = test_id.rsplit("-", 1)[1]
    in_suite = re.findall(rf"\|\s*AC-({number}\.\d+)\s*\|", suite.doc)
    text = ACCEPTANCE.read_text(encoding="utf-8") if ACCEPTANCE.is_file() else ""
    in_document = re.findall(rf"^\|\s*({number}\.\d+)\s*\|", section(text, test_id), flags=re.MULTILINE)
    assert in_suite == in_document, (
        f"{path.name}: expected the criteria of docs/acceptance.md {in_document}, found {in_suite}"
    )


def test_readme_names_the_platform() -> None:
    text = README.read_text(encoding="utf-8")
    for needed in ("Linux", "epoll", "TCP_INFO", "Python 3.11"):
        assert needed in text, f"README.md: expected the platform to mention {needed!r}, found none"


def test_every_pabot_command_in_the_documents_skips_pabotlib() -> None:
    """PabotLib binds port 8270; a second pabot run on the machine then warns and fails to reach it."""
    offenders = [
        f"{document.relative_to(REPO)}: {line.strip()}"
        for document in DOCUMENTS
        for line in document.read_text(encoding="utf-8").splitlines()
        if re.search(r"(^|[`(:]\s*|\s)pabot\s+--", line) and "--no-pabotlib" not in line
    ]
    assert not offenders, f"expected --no-pabotlib in every pabot command, found without: {offenders}"
