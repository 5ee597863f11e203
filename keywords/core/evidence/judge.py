"""Getters that double as assertions, with the figure logged beside its threshold.

Built on robotframework-assertion-engine: ``Get Round Trip Time    p95    <    100``
returns the value when no operator is given, and otherwise checks it. For numeric
comparisons the value, threshold and margin are also logged as a figure table, so the
report shows the margin, not just PASS.
"""

from __future__ import annotations

from typing import Any

from assertionengine import AssertionOperator, verify_assertion
from robot.api import logger

from wsresilience.core.evidence.figures import Figure, figure_table
from wsresilience.errors import ResilienceFailure

_NUMERIC = {
    AssertionOperator["<"]: "<",
    AssertionOperator["<="]: "<=",
    AssertionOperator[">"]: ">",
    AssertionOperator[">="]: ">=",
    AssertionOperator["=="]: "==",
}


def check(
    value: Any,
    operator: AssertionOperator | None,
    expected: Any,
    name: str,
    unit: str = "",
    criterion: str = "",
    message: str | None = None,
) -> Any:
    """Return ``value``, or verify it with ``operator`` against ``expected``."""
    if operator is None:
        return value
    comparison = _NUMERIC.get(operator)
    if comparison is not None and isinstance(value, (int, float)):
        try:
            threshold = float(expected)
        except (TypeError, ValueError):
            threshold = None
        if threshold is not None:
            figure = Figure(name, float(value), unit, threshold, comparison, criterion)  # type: ignore[arg-type]
            logger.info(figure_table([figure], title=name), html=True)
            if not figure.passed:
                raise ResilienceFailure(message or f"Expected {figure.describe()}.")
            return value
    try:
        return verify_assertion(value, operator, expected, f"{name}", message)
    except AssertionError as failure:
        raise ResilienceFailure(str(failure)) from None
