"""A criterion's figures as the page shows them: in one set of units, repeated ones aggregated.

A test that checks ten users logs the same three figures ten times (``parallel-ae64c078:
history entries``, ``parallel-d11608eb: history entries``, ...). The page shows one row per
kind of figure instead: the name without the per-user prefix, how many were logged, their
minimum, median and maximum, the threshold, the worst margin and the verdict (FAIL if any
failed). The per-user detail stays in log.html.

Figures are grouped when they share the name (less a one-word prefix ending in ``": "``),
the unit, the comparison and the threshold. A group's :attr:`Row.key` (criterion, name,
comparison) is what a baseline run is matched on (:mod:`wsresilience.signoff.baseline`).

A criterion's figures are of two kinds: those logged for it (their ``criterion`` is its ID)
and those its tests logged on the way, with no criterion (a precondition with its own bound,
such as waiting up to the settle timeout for a zombie to go before counting connections).
When a criterion has figures of its own, the others are :attr:`Row.on_the_way`, and the page
shows them apart, so a 12 s wait does not read as the criterion's bound.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass, field

from .model import Criterion, TestResult
from .units import display_unit

#: ``alice-42fcd1db: history entries`` -> prefix ``alice-42fcd1db``; a prefix is one word.
PREFIX = re.compile(r"^(?P<who>[^\s:]{1,60}): (?P<what>\S.*)$")


@dataclass
class Row:
    """One kind of figure of one criterion, in the page's units."""

    criterion: str
    name: str
    unit: str
    comparison: str
    threshold: float
    tolerance: float
    values: list[float]
    margins: list[float]
    verdicts: list[str]
    notes: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    on_the_way: bool = False
    factor: float = 1.0
    """What the page multiplied the logged numbers by (:func:`in_page_units`)."""

    @property
    def key(self) -> tuple[str, str, str]:
        """What a baseline run's row is matched on: criterion, name and comparison."""
        return (self.criterion.upper(), self.name, self.comparison)

    @property
    def count(self) -> int:
        return len(self.values)

    @property
    def verdict(self) -> str:
        """FAIL if any figure failed, PASS if all passed, else the first verdict logged."""
        if "FAIL" in self.verdicts:
            return "FAIL"
        return "PASS" if self.verdicts and set(self.verdicts) == {"PASS"} else (self.verdicts or ["?"])[0]

    @property
    def margin(self) -> float:
        """The worst (smallest) margin: the figure closest to, or furthest past, its threshold."""
        finite = [m for m in self.margins if not math.isnan(m)]
        return min(finite) if finite else math.nan

    @property
    def worst(self) -> float:
        """The value with the worst margin (NaN, a miss, counts as worst)."""
        if any(math.isnan(v) for v in self.values):
            return math.nan
        pairs = [(m, v) for m, v in zip(self.margins, self.values) if not math.isnan(m)]
        return min(pairs)[1] if pairs else (self.values[0] if self.values else math.nan)

    @property
    def spread(self) -> tuple[float, float, float]:
        """Minimum, median and maximum of the values (NaN left out; all NaN gives NaN)."""
        finite = sorted(v for v in self.values if not math.isnan(v))
        if not finite:
            return (math.nan, math.nan, math.nan)
        return (finite[0], statistics.median(finite), finite[-1])

    @property
    def note(self) -> str:
        """The first note, and how many other distinct notes the log holds."""
        distinct = list(dict.fromkeys(n for n in self.notes if n))
        if len(distinct) <= 1:
            return distinct[0] if distinct else ""
        return f"{distinct[0]} (+{len(distinct) - 1} other notes in the log)"


def generic_name(name: str) -> str:
    """The figure's name less a one-word prefix naming the user, stream or connection."""
    match = PREFIX.match(name)
    return match.group("what") if match else name


def criterion_rows(criterion: Criterion) -> list[Row]:
    """The criterion's figures, converted and aggregated, its own first, in first-logged order."""
    figures = criterion.figures()
    own = any(str(f["criterion"]).upper() == criterion.id.upper() for _, f in figures)
    groups: dict[tuple[object, ...], Row] = {}
    for test, figure in figures:
        aside = own and not figure["criterion"]
        row = _row_for(groups, criterion.id, figure, aside)
        _add(row, test, figure)
    rows = list(groups.values())
    return [r for r in rows if not r.on_the_way] + [r for r in rows if r.on_the_way]


def _row_for(groups: dict[tuple[object, ...], Row], cid: str, figure: dict[str, object], aside: bool) -> Row:
    name = generic_name(str(figure["name"]))
    threshold = float(figure["threshold"])  # type: ignore[arg-type]
    group = (aside, name, figure["unit"], figure["comparison"], threshold, figure["tolerance"])
    if group not in groups:
        groups[group] = Row(
            criterion=cid, name=name, unit=str(figure["unit"]), comparison=str(figure["comparison"]),
            threshold=threshold, tolerance=float(figure["tolerance"]),  # type: ignore[arg-type]
            values=[], margins=[], verdicts=[], on_the_way=aside,
        )
    return groups[group]


def _add(row: Row, test: TestResult, figure: dict[str, object]) -> None:
    row.values.append(float(figure["value"]))  # type: ignore[arg-type]
    row.margins.append(float(figure["margin"]))  # type: ignore[arg-type]
    row.verdicts.append(str(figure["verdict"]) or "?")
    row.notes.append(str(figure["note"]))
    if test.name not in row.tests:
        row.tests.append(test.name)
    if figure.get("keyword") and figure["keyword"] not in row.keywords:
        row.keywords.append(str(figure["keyword"]))


def in_page_units(row: Row) -> Row:
    """The same row with every number in the page's unit for it (see :mod:`.units`)."""
    numbers = [abs(v) for v in [*row.values, row.threshold] if not math.isnan(v)]
    magnitude = max(numbers, default=0.0)
    factor, unit = display_unit(row.unit, magnitude)
    if factor == 1.0 and unit == row.unit:
        return row
    return Row(
        criterion=row.criterion, name=row.name, unit=unit, comparison=row.comparison,
        threshold=row.threshold * factor, tolerance=row.tolerance * factor,
        values=[v * factor for v in row.values], margins=[m * factor for m in row.margins],
        verdicts=list(row.verdicts), notes=list(row.notes), tests=list(row.tests), keywords=list(row.keywords),
        on_the_way=row.on_the_way, factor=factor,
    )


def page_rows(criterion: Criterion) -> list[Row]:
    """What the page shows for a criterion: :func:`criterion_rows` in the page's units."""
    return [in_page_units(row) for row in criterion_rows(criterion)]
