"""Trends against a baseline run: each figure's change, and drift towards its threshold.

``python -m wsresilience.signoff results/output.xml --baseline last-release/output.xml``
loads both runs (robot, rebot or pabot ``output.xml``, or Robot's JSON output) and matches
their figure rows (:class:`wsresilience.signoff.rows.Row`) by criterion, name and comparison.

A row's margin is its distance to the threshold, positive while it passes. Between the
baseline and this run a row:

* **improved**: its margin grew (it moved away from its threshold);
* **steady**: its margin shrank by at most ``drift`` (a fraction) of the baseline's margin;
* **drifted**: it still passes, but its margin shrank by more than that: it moved towards
  its threshold, and the page flags it before it fails;
* **crossed**: it passed in the baseline and fails now;
* **recovered** / **still failing**: it failed in the baseline and passes / fails now;
* **new**: the baseline has no such row (a new check, or its criterion did not run then).

Rows the baseline had and this run has not are listed as **gone**, and criteria present in
one run only are named, so a criterion missing from either run cannot pass unnoticed.
Values are compared in the unit they were logged in; a row whose unit changed between the
runs is not compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from .model import SignOff, load
from .rows import Row, criterion_rows

#: Default for ``--drift``: flag a figure that used up more than a quarter of its margin.
DEFAULT_DRIFT = 0.25

IMPROVED, STEADY, DRIFTED, CROSSED, RECOVERED, STILL_FAILING, NEW = (
    "improved", "steady", "drifted", "crossed", "recovered", "still failing", "new",
)
FLAGGED = frozenset({DRIFTED, CROSSED})


@dataclass(frozen=True)
class Trend:
    """How one row changed since the baseline, in the row's logged unit."""

    status: str
    before: float = math.nan
    after: float = math.nan
    margin_before: float = math.nan
    margin_after: float = math.nan
    verdict_before: str = ""

    @property
    def change(self) -> float:
        """After minus before, of the worst value (NaN when either is missing)."""
        return self.after - self.before

    @property
    def flagged(self) -> bool:
        return self.status in FLAGGED

    @property
    def used(self) -> float:
        """The share of the baseline's margin used up since (negative: margin grew)."""
        if not (self.margin_before > 0) or math.isnan(self.margin_after):
            return math.nan
        return (self.margin_before - self.margin_after) / self.margin_before


@dataclass
class Comparison:
    """This run against a baseline: a trend per row, and what only one run has."""

    baseline: Path
    drift: float
    trends: dict[tuple[str, str, str], Trend] = field(default_factory=dict)
    gone: dict[str, list[Row]] = field(default_factory=dict)
    criteria_new: list[str] = field(default_factory=list)
    criteria_gone: list[str] = field(default_factory=list)
    verdicts_before: dict[str, str] = field(default_factory=dict)

    def trend(self, row: Row) -> Trend:
        return self.trends.get(row.key, Trend(NEW))

    @property
    def flagged(self) -> list[tuple[tuple[str, str, str], Trend]]:
        """Rows that drifted towards, or crossed, their threshold since the baseline."""
        return [(key, t) for key, t in self.trends.items() if t.flagged]


def judge_trend(now: Row, before: Row, drift: float = DEFAULT_DRIFT) -> Trend:
    """The trend of one row against its baseline row (both in their logged unit)."""
    common = dict(before=before.worst, after=now.worst, margin_before=before.margin,
                  margin_after=now.margin, verdict_before=before.verdict)
    was, is_ = before.verdict == "PASS", now.verdict == "PASS"
    if was and not is_:
        return Trend(CROSSED, **common)
    if not was:
        return Trend(RECOVERED if is_ else STILL_FAILING, **common)
    mb, ma = before.margin, now.margin
    if math.isnan(mb) or math.isnan(ma) or ma >= mb:
        grew = not (math.isnan(mb) or math.isnan(ma)) and ma > mb + 1e-12 * max(1.0, abs(mb))
        return Trend(IMPROVED if grew else STEADY, **common)
    used = (mb - ma) / mb if mb > 0 else math.inf
    return Trend(DRIFTED if used > drift else STEADY, **common)


def compare(current: SignOff, baseline: SignOff, drift: float = DEFAULT_DRIFT) -> Comparison:
    """Match every row of ``current`` with the baseline's and judge its trend."""
    result = Comparison(baseline.source, drift)
    old_criteria = {c.id: c for c in baseline.criteria}
    new_criteria = {c.id: c for c in current.criteria}
    result.verdicts_before = {cid: c.verdict for cid, c in old_criteria.items()}
    result.criteria_new = [cid for cid, c in new_criteria.items()
                           if cid not in old_criteria or (c.tests and not old_criteria[cid].tests)]
    result.criteria_gone = [cid for cid, c in old_criteria.items()
                            if c.tests and (cid not in new_criteria or not new_criteria[cid].tests)]
    for cid, criterion in new_criteria.items():
        before = {row.key: row for row in criterion_rows(old_criteria[cid])} if cid in old_criteria else {}
        seen = set()
        for row in criterion_rows(criterion):
            old = before.get(row.key)
            if old is None or old.unit != row.unit:
                continue
            seen.add(row.key)
            result.trends[row.key] = judge_trend(row, old, drift)
        missing = [row for key, row in before.items() if key not in seen]
        if missing:
            result.gone[cid] = missing
    for cid in result.criteria_gone:
        if cid not in new_criteria:
            result.gone[cid] = criterion_rows(old_criteria[cid])
    return result


def load_baseline(path: Path, current: SignOff, drift: float = DEFAULT_DRIFT) -> Comparison:
    """Read the baseline output (XML or JSON) and compare ``current`` with it."""
    return compare(current, load(Path(path)), drift)
