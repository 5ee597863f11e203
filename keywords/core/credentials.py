"""Test users and their tokens, kept out of logs.

Robot logs every assigned variable (``${user} = …``) and keyword arguments, so a token
held as a plain string would end up in log.html and output.xml. A :class:`Credential`
prints as ``<user alice-3f2a: token ***>``; the token itself is only read by the library
code that sends it. Libraries also register every token they create with
:func:`known_secrets` so recorded message previews can be masked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

_KNOWN: set[str] = set()


@dataclass(frozen=True)
class Credential:
    """A test user's name and token; its text form never shows the token."""

    user: str
    token: str = field(repr=False)
    kind: str = "valid"

    def __post_init__(self) -> None:
        _KNOWN.add(self.token)

    def __str__(self) -> str:
        return f"<user {self.user}: {self.kind} token ***>"

    __repr__ = __str__


def fresh_user_name(prefix: str = "user") -> str:
    """A user name no other test uses (parallel runs included)."""
    return f"{prefix}-{secrets.token_hex(4)}"


def known_secrets() -> list[str]:
    """Every token created in this process, for masking."""
    return list(_KNOWN)
