"""Signed tokens (JWT, HS256) with an expiry: issue and verify.

The reference server verifies; the test library, which knows the signing secret because it
started the server, issues tokens for fresh test users. The secret comes from the
environment variable ``REFSERVER_JWT_SECRET``; without it the server uses a fixed
development secret and says so on stderr (fine by hand, never in a suite).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import jwt

SECRET_ENV = "REFSERVER_JWT_SECRET"
DEV_SECRET = "refserver-dev-secret-change-me"
ISSUER = "refserver"
ALGORITHM = "HS256"


class TokenRejected(Exception):
    """A token was refused; ``code`` is stable (``malformed-token``, ``invalid-token``,
    ``expired-token``), the message is for humans and never contains the token."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Identity:
    """Who a verified token speaks for."""

    user: str
    expires_at: float


def secret_from_env() -> tuple[str, bool]:
    """The signing secret and whether it is the development fallback."""
    value = os.environ.get(SECRET_ENV, "")
    return (value, False) if value else (DEV_SECRET, True)


def issue_token(secret: str, user: str, ttl: float = 3600.0, now: float | None = None) -> str:
    """A token for ``user`` valid for ``ttl`` seconds (negative ``ttl``: already expired)."""
    issued = time.time() if now is None else now
    claims = {"sub": user, "iss": ISSUER, "iat": int(issued), "exp": int(issued + ttl)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: object, check_expiry: bool = True) -> Identity:
    """The identity a token proves, or :class:`TokenRejected` saying why not."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise TokenRejected("malformed-token", "token is not a JWT (three dot-separated parts)")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["sub", "exp", "iss"], "verify_exp": check_expiry},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejected("expired-token", "token has expired") from None
    except jwt.InvalidSignatureError:  # a DecodeError subclass, so it must come first
        raise TokenRejected("invalid-token", "token signature does not verify") from None
    except jwt.DecodeError:
        raise TokenRejected("malformed-token", "token cannot be decoded") from None
    except jwt.InvalidTokenError as exc:
        raise TokenRejected("invalid-token", f"token is not valid: {type(exc).__name__}") from None
    return Identity(str(claims["sub"]), float(claims["exp"]))
