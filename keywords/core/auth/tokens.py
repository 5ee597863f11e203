"""Token sources: how the suites get tokens the target accepts, for fresh users.

A suite needs tokens for users that exist only for one test (``alice-3f2a``), valid ones and
expired ones. Where they come from depends on the target:

- :class:`JwtSecretSource`: the suite knows the target's signing secret (the reference
  server it started, or ``AUTH_JWT_SECRET``) and mints each token itself with PyJWT, with the
  target's issuer, audience and algorithm. An expired token is minted with ``exp`` in the
  past.
- :class:`CommandSource`: the target's tokens come from an identity provider; a command
  (``AUTH_TOKEN_COMMAND``) prints one token per run, with ``{user}`` and ``{ttl}`` replaced.
  An expired token exists only if the command honours a ``{ttl}`` of zero or less: the token
  it prints is checked (its ``exp`` claim, read without verifying) and, if it is not
  expired, :class:`~wsresilience.errors.TokenUnavailable` says so, and the check that wanted
  it SKIPs with that reason.

Secrets never print: the signing secret is held in a :class:`MaskedSecret`, tokens in
:class:`~wsresilience.core.masking.Credential`, and a failing command is reported by its exit
code and its stderr with every known secret masked, never by what it printed on stdout.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from dataclasses import dataclass, field
from typing import Protocol

import jwt

from wsresilience.core.masking import MASK, Credential, known_secrets, mask_secret
from wsresilience.errors import TokenSourceFailed, TokenUnavailable

#: How long a token command may run.
COMMAND_TIMEOUT = 30.0


@dataclass(frozen=True)
class MaskedSecret:
    """A secret value that prints as ``***`` (in Robot's log, in reprs, in f-strings)."""

    value: str = field(repr=False)

    def __str__(self) -> str:
        return MASK

    __repr__ = __str__


class TokenSource(Protocol):
    """What the keywords ask of a token source."""

    #: Where tokens come from, for the log and skip reasons (never the secret itself).
    description: str

    def valid(self, user: str, ttl: float) -> Credential:
        """A token for ``user`` valid for ``ttl`` seconds."""

    def expired(self, user: str, ago: float) -> Credential:
        """A correctly made token for ``user`` that expired ``ago`` seconds ago, or :class:`TokenUnavailable`."""


@dataclass(frozen=True)
class JwtSecretSource:
    """Mints JWTs with a shared secret (or key), the way the target's own issuer would."""

    secret: MaskedSecret
    issuer: str = ""
    audience: str = ""
    algorithm: str = "HS256"
    description: str = "tokens minted with the target's signing secret"

    def mint(self, user: str, ttl: float, now: float | None = None) -> str:
        """A token for ``user`` expiring ``ttl`` seconds from now (negative: already expired)."""
        issued = time.time() if now is None else now
        claims: dict[str, object] = {"sub": user, "iat": int(issued), "exp": int(issued + ttl)}
        if self.issuer:
            claims["iss"] = self.issuer
        if self.audience:
            claims["aud"] = self.audience
        try:
            return jwt.encode(claims, self.secret.value, algorithm=self.algorithm)
        except (jwt.PyJWTError, NotImplementedError, ValueError, TypeError) as exc:
            raise TokenSourceFailed(
                f"Cannot mint a {self.algorithm} token with the configured secret: {type(exc).__name__}."
            ) from None

    def valid(self, user: str, ttl: float) -> Credential:
        """A token for ``user`` valid for ``ttl`` seconds."""
        return Credential(user, self.mint(user, ttl), "valid" if ttl > 0 else "expired")

    def expired(self, user: str, ago: float) -> Credential:
        """A token for ``user`` whose ``exp`` lies ``ago`` seconds in the past."""
        return Credential(user, self.mint(user, -abs(ago)), "expired")


@dataclass(frozen=True)
class CommandSource:
    """Runs a command per token: ``{user}`` and ``{ttl}`` (whole seconds) are replaced in each argument.

    The command line is split like a shell would (:func:`shlex.split`) but run without one.
    What it prints on stdout, stripped, is the token.
    """

    command: str
    timeout: float = COMMAND_TIMEOUT
    description: str = "tokens printed by AUTH_TOKEN_COMMAND"

    def argv(self, user: str, ttl: float) -> list[str]:
        """The command's arguments for one user and ttl."""
        ttl_text = str(int(ttl))
        return [a.replace("{user}", user).replace("{ttl}", ttl_text) for a in shlex.split(self.command)]

    def run(self, user: str, ttl: float) -> str:
        """The token the command prints for ``user`` and ``ttl``, or :class:`TokenSourceFailed`."""
        argv = self.argv(user, ttl)
        name = argv[0] if argv else "(empty)"
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout, check=False)  # noqa: S603
        except (OSError, ValueError) as exc:
            raise TokenSourceFailed(f"Expected the token command {name} to run; it could not start: {exc}.") from None
        except subprocess.TimeoutExpired:
            raise TokenSourceFailed(
                f"Expected the token command {name} to print a token for {user}; "
                f"it was still running after {self.timeout:.0f} s."
            ) from None
        token = done.stdout.strip()
        if done.returncode != 0 or not token or len(token.split()) != 1:
            said = mask_secret(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "nothing",
                               [token, *known_secrets()])
            what = "exited with code " + str(done.returncode) if done.returncode else "printed no single token"
            raise TokenSourceFailed(
                f"Expected the token command {name} to print one token for {user} (ttl {int(ttl)} s); "
                f"it {what}; stderr: {said}."
            )
        return token

    def valid(self, user: str, ttl: float) -> Credential:
        """The command's token for ``user`` with ``{ttl}`` = ``ttl``."""
        return Credential(user, self.run(user, ttl), "valid")

    def expired(self, user: str, ago: float) -> Credential:
        """The command's token for ``{ttl}`` = ``-ago``, if it really has expired."""
        try:
            token = self.run(user, -abs(ago))
        except TokenSourceFailed as exc:
            raise TokenUnavailable(
                f"AUTH_TOKEN_COMMAND cannot give an expired token (asked with {{ttl}} = {-int(abs(ago))}): {exc}"
            ) from None
        credential = Credential(user, token, "expired")  # registered for masking from here on
        left = seconds_to_expiry(token)
        if left is None or left > 0:
            seen = "no readable exp claim" if left is None else f"a token valid for {left:.0f} s more"
            raise TokenUnavailable(
                f"AUTH_TOKEN_COMMAND cannot give an expired token: asked with {{ttl}} = {-int(abs(ago))}, "
                f"it printed {seen}. The expired-token check needs a command that honours a ttl of zero or less."
            )
        return credential


def seconds_to_expiry(token: str, now: float | None = None) -> float | None:
    """Seconds until the JWT's ``exp`` (negative: past), read without verifying; None if it has none."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        return None
    return float(exp) - (time.time() if now is None else now)
