"""Every keyword library builds its libdoc documentation, and every keyword is documented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from robot.libdoc import libdoc

from support import REPO

#: Every library module in keywords/, by its installed name (never the folder's).
LIBRARIES = sorted(
    f"wsresilience.{p.stem}" for p in (REPO / "keywords").glob("*.py")
    if p.stem[0].isupper() and p.stem != "SignOffListener"
)


@pytest.mark.parametrize("library", LIBRARIES)
def test_library_documents_every_keyword(library: str, tmp_path: Path) -> None:
    out = tmp_path / "doc.json"
    assert libdoc(library, str(out), format="JSON", quiet=True) == 0
    spec = json.loads(out.read_text())
    assert spec["doc"].strip(), f"{library} has no introduction"
    assert spec["keywords"], f"{library} has no keywords"
    undocumented = [k["name"] for k in spec["keywords"] if not k["shortdoc"].strip()]
    assert undocumented == [], f"{library}: keywords without documentation: {undocumented}"
