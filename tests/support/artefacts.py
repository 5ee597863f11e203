"""Search everything a Robot run leaves behind for strings that must not be there.

A run writes its console, ``output.xml``, ``log.html``, ``report.html``, the sign-off page and
its JUnit file (and, when asked, Robot's xUnit and debug files). log.html and report.html keep
their texts in a JavaScript model (``window.output["strings"]``) where a string starting with
``*`` is stored raw and every other one is zlib-compressed and base64-encoded, so a plain grep
misses a secret inside a long message: :func:`artefact_texts` decodes every string first.

A search that finds nothing proves nothing unless it can find something: the tests that use
:func:`findings` also plant a marker that *is* logged and check that the same search sees it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

#: What a run writes into its output folder that a reader may open or publish.
ARTEFACTS = ("output.xml", "log.html", "report.html", "signoff.html", "signoff-junit.xml",
             "xunit.xml", "debug.txt")

_JS_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def artefact_texts(path: Path) -> list[str]:
    """The file's text plus, for HTML, every string of its embedded JS model, decoded."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    texts = [raw]
    if path.suffix != ".html":
        return texts
    for match in _JS_STRING.finditer(raw):
        try:
            value = json.loads(f'"{match.group(1)}"')
        except ValueError:
            continue
        if value.startswith("*"):
            texts.append(value[1:])
            continue
        try:
            texts.append(zlib.decompress(base64.b64decode(value, validate=True)).decode("utf-8", "replace"))
        except (binascii.Error, zlib.error, ValueError):
            continue
    return texts


def written_artefacts(outdir: Path) -> list[Path]:
    """The artefacts of :data:`ARTEFACTS` the run in ``outdir`` wrote."""
    return [outdir / name for name in ARTEFACTS if (outdir / name).is_file()]


def findings(outdir: Path, needles: Mapping[str, str], console: str = "") -> list[str]:
    """Every ``"<artefact>: <label> ×<count>"`` where a needle appears (label → needle).

    ``console`` is what the run printed; each artefact is searched with its HTML strings
    decoded (:func:`artefact_texts`), so a needle found only in a compressed string counts.
    """
    found: list[str] = []
    sources: list[tuple[str, Iterable[str]]] = [("console", [console])] if console else []
    sources += [(path.name, artefact_texts(path)) for path in written_artefacts(outdir)]
    for name, texts in sources:
        texts = list(texts)
        for label, needle in needles.items():
            count = sum(text.count(needle) for text in texts)
            if count:
                found.append(f"{name}: {label} ×{count}")
    return found
