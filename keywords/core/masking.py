"""Secrets: the one masker for URLs and text, and test users whose tokens never print.

Robot logs every assigned variable (``${user} = …``) and keyword arguments, so a token
held as a plain string would end up in log.html and output.xml. A :class:`Credential`
prints as ``<user alice-3f2a: token ***>``; the token itself is only read by the library
code that sends it. Every token created is registered with :func:`known_secrets` so
recorded message previews can be masked, and :func:`mask_url` hides passwords and
secret-looking query values in every URL the library prints.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Query parameter names whose values are secrets (matched anywhere in the name).
SECRET_PARAMS = re.compile(r"token|auth|key|secret|pass|jwt|session|signature|^sig$", re.IGNORECASE)
#: A URL inside free text, for :func:`mask_text`.
URL_IN_TEXT = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE)
MASK = "***"


def mask_url(url: str) -> str:
    """``url`` with its password and secret-looking query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", f":{MASK}@")
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if SECRET_PARAMS.search(k) else v) for k, v in pairs])
        query = query.replace("%2A%2A%2A", MASK)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def mask_text(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with every URL in it masked (:func:`mask_url`) and every known secret hidden.

    ``secrets`` defaults to every token this process created (:func:`known_secrets`).
    """
    text = URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)
    return mask_secret(text, known_secrets() if secrets is None else secrets)


def mask_secret(text: str, secrets: list[str]) -> str:
    """``text`` with every occurrence of each non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


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
