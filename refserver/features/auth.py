"""Authentication: the first message a client sends is ``{"type": "auth", "token": "…"}``.

Success: ``{"type": "auth-ok", "user": "<sub>"}`` and the server runs its
``on_authenticated`` hooks (agents, sessions…). Failure: ``{"type": "error", "code":
"malformed-token" | "invalid-token" | "expired-token", "message": …}``, then the server
closes with 4401 ("stop" range: reconnecting with the same token will not help). A
message that needs authentication before it gets ``{"type": "error", "code":
"unauthenticated"}``. Tokens travel in a message, not the URL, so they stay out of access
logs; the server never echoes or logs them.
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
    server.auth_secret = secret

    async def auth(client: Client, message: dict[str, Any]) -> None:
        try:
            identity = verify_token(
                secret, message.get("token"), check_expiry=not server.config.has(Defect.ACCEPT_EXPIRED_TOKEN)
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
