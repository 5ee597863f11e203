"""Routing of JSON messages to handlers by their ``type`` field.

Features (heartbeat controls, streams, sessions…) register handlers here, so each lives in
a module of its own. Any message that is not JSON with a known ``type`` gets an explicit
error; the server never crashes on malformed input.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from .client import Client

Handler = Callable[[Client, dict[str, Any]], Awaitable[None]]


class Router:
    """Maps message types to handlers."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}

    def register(self, message_type: str, handler: Handler) -> None:
        """Route messages of ``message_type`` to ``handler``.

        Each type has one handler, registered once: a feature that wants to change how
        another's message is handled uses that feature's hooks, never re-registers it.
        """
        if message_type in self.handlers:
            raise ValueError(f"message type {message_type!r} already has a handler")
        self.handlers[message_type] = handler

    async def dispatch(self, client: Client, raw: str | bytes) -> None:
        """Handle one incoming message; plain (non-JSON) text and bytes are echoed."""
        if isinstance(raw, bytes):
            await client.send_raw(raw)
            return
        try:
            message = json.loads(raw)
        except ValueError:
            await client.send_raw(raw)
            return
        if not isinstance(message, dict) or "type" not in message:
            await client.send_raw(raw)
            return
        handler = self.handlers.get(str(message["type"]))
        if handler is None:
            await client.send_error("unknown-type", f"unknown message type {message['type']!r}")
            return
        try:
            await handler(client, message)
        except (KeyError, TypeError, ValueError) as exc:
            await client.send_error("bad-request", f"{type(exc).__name__}: {exc}")
