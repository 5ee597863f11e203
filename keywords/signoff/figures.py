"""Read evidence figures back out of logged HTML messages.

Libraries log figure tables made by :func:`wsresilience.core.evidence.figures.figure_table`: an HTML
``<table class='wsr-figures' data-figures="...">`` whose attribute holds the figures as
HTML-escaped JSON. This module finds those tables in a message and returns the figure dicts.
An HTML parser (not a regex) reads the attribute, so quoting style and escaping don't matter.
"""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser

FIGURE_CLASS = "wsr-figures"
FIELDS = ("name", "value", "unit", "threshold", "comparison", "criterion", "tolerance", "note", "verdict", "margin")


class _FigureTableFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.payloads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if FIGURE_CLASS in (values.get("class") or "").split() and values.get("data-figures"):
            self.payloads.append(values["data-figures"] or "")


def figures_in_html(message: str) -> list[dict[str, object]]:
    """All figure dicts carried by ``wsr-figures`` tables in one HTML message.

    Malformed JSON is skipped rather than fatal: the sign-off page must still be written. Each
    dict gets every field of the contract (missing ones default to empty/NaN).
    """
    if FIGURE_CLASS not in message:
        return []
    finder = _FigureTableFinder()
    finder.feed(message)
    finder.close()
    figures: list[dict[str, object]] = []
    for payload in finder.payloads:
        try:
            data = json.loads(payload)
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict):
                figures.append(_normalise(item))
    return figures


def _normalise(item: dict[str, object]) -> dict[str, object]:
    figure: dict[str, object] = {key: item.get(key, "") for key in FIELDS}
    for key in ("value", "threshold", "tolerance", "margin"):
        figure[key] = _number(item.get(key))
    for key in ("name", "unit", "comparison", "criterion", "note"):
        figure[key] = "" if item.get(key) is None else str(item.get(key))
    figure["verdict"] = str(item.get("verdict") or "").upper()
    return figure


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
