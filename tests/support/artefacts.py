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


def every_file(outdir: Path) -> list[Path]:
    """Every file under ``outdir``, at any depth (pabot leaves a folder per process)."""
    return sorted(path for path in outdir.rglob("*") if path.is_file())


def findings(outdir: Path, needles: Mapping[str, str], console: str = "",
             files: Iterable[Path] | None = None) -> list[str]:
    """Every ``"<file>: <label> ×<count>"`` where a needle appears (label → needle).

    ``console`` is what the run printed; ``files`` default to the run's artefacts
    (:func:`written_artefacts`), named relative to ``outdir``. Each is searched with its HTML
    strings decoded (:func:`artefact_texts`), so a needle found only compressed counts.
    """
    found: list[str] = []
    sources: list[tuple[str, Iterable[str]]] = [("console", [console])] if console else []
    paths = written_artefacts(outdir) if files is None else files
    sources += [(path.relative_to(outdir).as_posix(), artefact_texts(path)) for path in paths]
    for name, texts in sources:
        texts = list(texts)
        for label, needle in needles.items():
            count = sum(text.count(needle) for text in texts)
            if count:
                found.append(f"{name}: {label} ×{count}")
    return found
