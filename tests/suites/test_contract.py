"""The suites keep the contract that outside checks and the sign-off page rely on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from robot.api import TestSuite as RobotSuite

from support import SUITES

SUITE_FILES = sorted(SUITES.glob("ws_resilience_*.robot"))
TEST_ID = re.compile(r"^WS-RESILIENCE-\d{3}$")
CRITERION = re.compile(r"^AC-\d{3}\.\d+$")


@pytest.mark.parametrize("path", SUITE_FILES, ids=[p.stem for p in SUITE_FILES])
def test_every_test_carries_its_test_id_and_documented_criteria(path: Path) -> None:
    suite = RobotSuite.from_file_system(str(path))
    test_id = suite.metadata["Test ID"]
    assert TEST_ID.match(test_id), test_id
    number = test_id.rsplit("-", 1)[1]
    documented = set(re.findall(rf"\|\s*(AC-{number}\.\d+)\s*\|", suite.doc))
    assert documented, f"{path.name}: no criteria table in the suite documentation"
    proven: set[str] = set()
    for test in suite.tests:
        tags = set(test.tags)
        assert test_id in tags, f"{test.name}: missing tag {test_id} (exact case)"
        criteria = {t for t in tags if CRITERION.match(t)}
        lowered = {t for t in tags if t.lower().startswith("ac-") and t not in criteria}
        assert not lowered, f"{test.name}: criterion tags must be upper case: {lowered}"
        assert criteria, f"{test.name}: no AC-{number}.n tag"
        assert criteria <= documented, f"{test.name}: undocumented criteria {criteria - documented}"
        proven |= criteria
    assert proven == documented, f"{path.name}: documented but unproven {documented - proven}"
