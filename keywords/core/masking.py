"""Secrets: the one masker for URLs and text, and objects that hold secrets but print masked.

Robot logs every assigned variable (``${user} = …``), and at ``--loglevel TRACE`` every
keyword's arguments and return value, so a secret held as a plain string would end up in
log.html, output.xml and the debug file. Secrets are therefore held in objects whose text
form is masked, from the moment the suite reads them:

- :class:`SecretUrl`: a URL with a password or token in it (``WS_URL``), printing as
  ``wss://qa:***@host/ws?token=***``;
- Robot's own :class:`~robot.api.types.Secret` (which :class:`SecretUrl` extends): any other
  secret, e.g. a signing key, printing as ``<secret>``;
- :class:`Credential`: a test user, printing as ``<user alice-3f2a: valid token ***>``.

The real value is read only by library code that sends it (:func:`reveal`). Robot refuses to
pass a ``Secret`` to an argument typed ``str``, so a keyword that forgot to accept one fails
loudly instead of connecting with the masked text. Every secret these objects hold is
registered with :func:`known_secrets`, so :func:`mask_text` hides it in any message, and
:func:`mask_url` hides passwords and secret-looking query values in every URL the library prints.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Union
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from robot.api.types import Secret

#: Query parameter names whose values are secrets (matched anywhere in the name).
SECRET_PARAMS = re.compile(r"token|auth|key|secret|pass|jwt|session|signature|^sig$", re.IGNORECASE)
#: A URL inside free text, for :func:`mask_text`.
URL_IN_TEXT = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE)
MASK = "***"

#: What a keyword that takes a URL or another secret accepts: the plain string, a
#: :class:`SecretUrl`, or any Robot ``Secret`` (``--variable "WS_URL: Secret:wss://…"``).
#: A ``Union`` rather than ``str | Secret``: Robot reads the hint at run time.
SecretOrStr = Union[str, Secret]  # noqa: UP007


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


def url_secrets(url: str) -> list[str]:
    """The secrets in ``url``: its password and the values of secret-looking query parameters."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return []
    found = [password] if password else []
    found += [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if v and SECRET_PARAMS.search(k)]
    return found


def mask_secret(text: str, secrets: list[str]) -> str:
    """``text`` with every occurrence of each non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


_KNOWN: set[str] = set()

#: Shorter secrets are not hidden in free text: replacing every ``p`` of a message would
#: garble it (and tell the reader the secret). URLs are masked by structure
#: (:func:`mask_url`), whatever the length of their password or token.
MIN_TEXT_SECRET = 4


def _remember(*secrets_: str) -> None:
    """Add secrets to the process-wide set :func:`mask_text` hides in free text."""
    _KNOWN.update(s for s in secrets_ if len(s) >= MIN_TEXT_SECRET)


@dataclass(frozen=True)
class Credential:
    """A test user's name and token; its text form never shows the token."""

    user: str
    token: str = field(repr=False)
    kind: str = "valid"

    def __post_init__(self) -> None:
        _remember(self.token)

    def __str__(self) -> str:
        return f"<user {self.user}: {self.kind} token ***>"

    __repr__ = __str__


class SecretUrl(Secret):
    """A URL that may carry a password or token; its text form is always masked.

    ``str()``, ``repr()`` and f-strings give :func:`mask_url` of the URL, so Robot's
    assignment, argument and return-value logging show ``ws://qa:***@host/?token=***``;
    ``.value`` (or :func:`reveal`) is the real URL, read only to connect. Its password and
    secret query values join :func:`known_secrets`, so they are masked in any text.

    | url = SecretUrl("wss://qa:pw@host/ws?token=eyJ…")
    | str(url)    # 'wss://qa:***@host/ws?token=***'
    | url.value   # the real URL
    """

    def __init__(self, value: str) -> None:
        super().__init__(value)
        _remember(*url_secrets(value))

    @property
    def masked(self) -> str:
        """The URL with its password and secret query values replaced by ``***``."""
        return mask_url(self.value)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return repr(self.masked)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretUrl) and other.value == self.value

    def __hash__(self) -> int:
        return hash(("SecretUrl", self.value))


def reveal(value: SecretOrStr) -> str:
    """The real text of ``value``: a ``Secret``'s value, or the string itself."""
    return value.value if isinstance(value, Secret) else value


def protect_url(url: str, given: SecretOrStr = "") -> str | SecretUrl:
    """``url`` as a :class:`SecretUrl` when it carries a secret (or was derived from a URL
    ``given`` as a ``Secret``), else as the plain string: what a keyword returns, so Robot
    never logs a secret it hands back."""
    if isinstance(given, Secret) or url_secrets(url):
        return SecretUrl(url)
    return url


def fresh_user_name(prefix: str = "user") -> str:
    """A user name no other test uses (parallel runs included)."""
    return f"{prefix}-{secrets.token_hex(4)}"


def known_secrets() -> list[str]:
    """Every token created in this process, for masking."""
    return list(_KNOWN)
