"""The page's headline: what was tested (test IDs) against what (the target), in plain words.

Each suite records its target in the metadata as ``<masked URL> (<what it is>)``, e.g.
``ws://127.0.0.1:41877/ (bundled reference server)``. Every suite starts its own bundled
server on a port the OS chose, so a run of four suites has four URLs that say nothing to a
reader: for the bundled server the page says what it was ("bundled reference server", "...
with defect slow-reaper"), and for an external service the masked URL and what it is.
A suite's ``Protocol`` metadata (the protocol profile it spoke) is added to its target line.
"""

from __future__ import annotations

import re

from .model import SignOff

TARGET = re.compile(r"^(?P<url>\S+) \((?P<what>.+)\)$")
BUNDLED = "bundled reference server"


def describe_target(value: str) -> str:
    """One suite's ``Target`` metadata as the page says it: what the bundled server was, or the URL."""
    match = TARGET.match(value.strip())
    if match and match.group("what").startswith(BUNDLED):
        return match.group("what")
    return value.strip()


def target_lines_of(run_metadata: dict[str, list[str]]) -> list[str]:
    """One line per distinct target in the run's metadata (see :func:`target_lines`)."""
    lines: list[str] = []
    for value in run_metadata.get("Target", []):
        line = describe_target(value)
        if line not in lines:
            lines.append(line)
    protocols = run_metadata.get("Protocol", [])
    if protocols:
        lines.append("protocol: " + ", ".join(protocols))
    return lines


def target_lines(signoff: SignOff) -> list[str]:
    """One line per distinct target of the run, bundled servers named, external URLs masked."""
    return target_lines_of(signoff.run_metadata)


def test_ids(signoff: SignOff) -> str:
    """``WS-RESILIENCE-001, 002, 006, 007``: the test IDs of the run, the shared prefix once."""
    ids = [s.test_id for s in signoff.sections]
    if not ids:
        return signoff.name
    prefix = ids[0].rsplit("-", 1)[0] + "-"
    if all(i.startswith(prefix) for i in ids):
        return prefix + ", ".join(i[len(prefix):] for i in ids)
    return ", ".join(ids)


def title(signoff: SignOff) -> str:
    """``Sign-off: WS-RESILIENCE-001, 002 against the bundled reference server``."""
    targets = [line for line in target_lines(signoff) if not line.startswith("protocol: ")]
    against = (
        f" against the {targets[0]}" if len(targets) == 1 and targets[0].startswith(BUNDLED)
        else f" against {targets[0]}" if len(targets) == 1
        else f" against {len(targets)} targets" if targets else ""
    )
    return f"Sign-off: {test_ids(signoff)}{against}"
