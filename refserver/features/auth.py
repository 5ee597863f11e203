"""Authentication: the first message a client sends is ``{"type": "auth", "token": "…"}``.

Success: ``{"type": "auth-ok", "user": "<sub>"}`` and the server runs its
``on_authenticated`` hooks (the agents feature adds ``agent_id``). Failure: ``{"type":
"error", "code": "malformed-token" | "invalid-token" | "expired-token", "message": …}``,
then the server closes with 4401 ("stop" range: reconnecting with the same token will
not help). A message that needs authentication before it gets ``{"type": "error",
"code": "unauthenticated"}``. Tokens travel in a message, not the URL, so they stay out
of access logs; the server never echoes or logs them.

Other features extend authentication only through the server's hook lists, which this
feature runs and nobody else does: ``admission_checks`` before the client is
authenticated (a refusal sends its error, then closes with its code; churn's
``throttle-reconnects`` defect is one), ``on_authenticated`` after. No feature wraps or
replaces the ``auth`` handler, so the order features are installed in does not change
what authentication does.
"""

from __future__ import annotations

import sys
from typing import Any

from ..auth import TokenRejected, secret_from_env, verify_token
from ..client import Client
from ..defects import Defect
from ..host import ServerHost

CLOSE_UNAUTHORIZED = 4401


def install(server: ServerHost) -> None:
    """Register the ``auth`` message."""
    secret, dev = secret_from_env()
    if dev:
        print("refserver: REFSERVER_JWT_SECRET not set, using the development secret",
              file=sys.stderr, flush=True)

    async def admitted(client: Client, token: object) -> bool:
        """Whether every admission check lets ``client`` in; a refusal is sent here."""
        if not server.admission_checks:
            return True
        try:
            claimed = verify_token(secret, token, check_expiry=False)
        except TokenRejected:
            return True  # not genuine: authentication proper says what is wrong with it
        for check in server.admission_checks:
            refusal = await check(client, claimed)
            if refusal is not None:
                await client.send_error(refusal.code, refusal.message)
                await client.ws.close(refusal.close_code, refusal.code)
                return False
        return True

    async def auth(client: Client, message: dict[str, Any]) -> None:
        token = message.get("token")
        if not await admitted(client, token):
            return
        try:
            identity = verify_token(
                secret, token, check_expiry=not server.config.has(Defect.ACCEPT_EXPIRED_TOKEN)
            )
        except TokenRejected as exc:
            await client.send_error(exc.code, str(exc))
            await client.ws.close(CLOSE_UNAUTHORIZED, exc.code)
            return
        client.user = identity.user
        reply: dict[str, Any] = {"type": "auth-ok", "user": identity.user}
        for hook in server.on_authenticated:
            reply.update(await hook(client) or {})
        await client.send_json(reply)

    server.router.register("auth", auth)
