"""A stand-in identity provider for ``AUTH_TOKEN_COMMAND``: prints one token for a user.

``python tests/support/token_command.py USER TTL [--no-backdate]`` prints a JWT for ``USER``
valid for ``TTL`` seconds, signed with the secret in ``REFSERVER_JWT_SECRET`` (the secret the
external reference server of the tests runs with), and nothing else. A negative ``TTL``
gives a token that has already expired, as an identity provider with a test clock would.
With ``--no-backdate`` the command behaves like most real identity providers: it ignores a
``TTL`` of zero or less and issues a token valid for an hour, so the suite cannot get an
expired token from it and must say so.
"""

from __future__ import annotations

import os
import sys

from wsresilience.refserver.auth import SECRET_ENV, issue_token

#: What an identity provider that cannot backdate issues instead.
DEFAULT_TTL = 3600.0


def main(argv: list[str]) -> int:
    """Print a token for ``argv[0]`` with the ttl ``argv[1]``; exit 2 on a usage error."""
    args = [a for a in argv if a != "--no-backdate"]
    if len(args) != 2:
        print("usage: token_command.py USER TTL [--no-backdate]", file=sys.stderr)
        return 2
    user, ttl = args[0], float(args[1])
    if ttl <= 0 and "--no-backdate" in argv:
        ttl = DEFAULT_TTL
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        print(f"token_command.py: {SECRET_ENV} is not set", file=sys.stderr)
        return 2
    print(f"  {issue_token(secret, user, ttl)}  ")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
