"""Keyword arguments that name one of a closed set of choices (an ``enum.StrEnum``)."""

from __future__ import annotations

import enum
from typing import TypeVar

E = TypeVar("E", bound=enum.StrEnum)


def parse_choice(kind: type[E], value: str | E, what: str) -> E:
    """The member of ``kind`` named ``value`` (case and surrounding spaces forgiven).

    Anything else fails naming ``what`` was asked for and every known name:
    ``Unknown behaviour 'x'; expected one of: responsive, no-pong, frozen.``
    """
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise ValueError(f"Unknown {what} {value!r}; expected one of: {known}.") from None
