"""The profile seam: what a framework adds on top of RFC 6455, in one object.

A :class:`ProtocolProfile` answers the questions every check asks of a connection, whatever
framework the service runs:

- **Opening** (:meth:`ProtocolProfile.connect_url`, :attr:`~ProtocolProfile.subprotocols`,
  :meth:`~ProtocolProfile.handshake`): the URL to open, the subprotocols to offer, and the
  application handshake after the WebSocket one (Engine.IO's open packet and Socket.IO's
  ``CONNECT`` with its ``auth`` payload; graphql-ws ``connection_init`` / ``connection_ack``).
- **The server's heartbeat** (:attr:`~ProtocolProfile.control_frame_heartbeat`,
  :meth:`~ProtocolProfile.heartbeat_answer`): RFC 6455 ping frames (websockets answers them),
  or application messages the client must answer itself (Engine.IO ``2`` → ``3``).
- **The client's own heartbeat** (:meth:`~ProtocolProfile.client_ping`,
  :meth:`~ProtocolProfile.is_client_pong`): RFC 6455 pings, an application ping (graphql-ws
  ``{"type": "ping"}``), or none at all (Engine.IO v4 closes a client that pings: the client
  watches the server's pings instead).
- **Auth** (:func:`render_auth_payload`): the run contract's ``WS_AUTH_PAYLOAD``, a JSON object
  in which ``{user}`` becomes each test user's name and ``{token}`` that user's token.

Profiles hold no per-connection state: one instance serves every connection. They never
touch sockets themselves; the handshake talks through a :class:`Channel` (an observed
connection, or a thin wrapper over a bare ``websockets`` connection in the flapping engine).
"""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol


class Channel(Protocol):
    """What a handshake needs of a connection: send one message, receive the next."""

    async def send(self, message: str | bytes) -> None:
        """Send one message."""

    async def receive(self, timeout: float) -> str | bytes:
        """The next message from the server; raises ``TimeoutError`` after ``timeout`` s."""


@dataclass(frozen=True)
class Announced:
    """Heartbeat values a service announces itself (Engine.IO's open packet), in seconds."""

    ping_interval: float
    ping_timeout: float

    def looser_than(self, interval: float, timeout: float) -> str:
        """Why the announced values cannot meet a requirement, or ``""`` when they can.

        ``"the service announces pingInterval 25000 ms and pingTimeout 20000 ms, looser than the
        required 500 ms / 500 ms"``: the reader of a failure sees the cause at once.
        """
        if self.ping_interval <= interval and self.ping_timeout <= timeout:
            return ""
        return (f"the service announces pingInterval {self.ping_interval * 1000:.0f} ms and pingTimeout "
                f"{self.ping_timeout * 1000:.0f} ms, looser than the required {interval * 1000:.0f} ms / "
                f"{timeout * 1000:.0f} ms")


@dataclass(frozen=True)
class Handshake:
    """What the application handshake learnt: the session's id and announced keepalive."""

    session_id: str = ""
    announced: Announced | None = None
    #: Anything else the framework said (Socket.IO: ``pid`` for connection state recovery).
    extra: dict[str, Any] = field(default_factory=dict)


class HandshakeRefused(Exception):
    """The service refused the application handshake (Socket.IO CONNECT_ERROR, close 4403)."""


class ProtocolProfile(ABC):
    """One framework's protocol on top of RFC 6455. Subclass, set the class attributes,
    implement the methods and decorate with :func:`register` (see docs/profiles.md)."""

    #: The name ``WS_PROTOCOL`` selects, e.g. ``socketio``.
    name: ClassVar[str]
    #: One line for logs and the sign-off page.
    description: ClassVar[str]
    #: Subprotocols offered in the WebSocket handshake (graphql-ws: ``graphql-transport-ws``).
    subprotocols: ClassVar[tuple[str, ...]] = ()
    #: Whether the server's heartbeat is RFC 6455 ping frames (answered by websockets).
    control_frame_heartbeat: ClassVar[bool] = True
    #: Whether the service speaks docs/protocol.md (sessions, streams, agents, metrics).
    reference_protocol: ClassVar[bool] = False
    #: How ``Drop Pong Frames`` finds the client's heartbeat answers in the fault proxy:
    #: ``control`` (PONG frames) or the name of a text matcher there (``socketio``, ``graphql-ws``).
    pong_matcher: ClassVar[str] = "control"

    def connect_url(self, url: str) -> str:
        """The URL a client opens for the service ``url`` names (Socket.IO adds its path)."""
        return url

    async def handshake(self, channel: Channel, auth: dict[str, Any] | None, timeout: float) -> Handshake:
        """The application handshake after the WebSocket one; raises
        :class:`HandshakeRefused` or ``TimeoutError``. Plain RFC 6455 has none."""
        return Handshake()

    @abstractmethod
    def heartbeat_answer(self, message: str | bytes) -> str | None:
        """The answer to ``message`` when it is the server's application heartbeat, else
        ``None`` (control-frame heartbeats never reach here)."""

    def client_ping(self) -> str | None:
        """The message the client pings with, or ``None``: an RFC 6455 ping (when
        :attr:`client_pings` is true) or no client heartbeat at all."""
        return None

    #: Whether the client may ping the server at all (Engine.IO v4: no, it closes the client).
    client_pings: ClassVar[bool] = True

    #: Whether a ``no-pong`` client must send nothing at all, not just no pong (Engine.IO:
    #: any packet from the client postpones a pending ping timeout once).
    no_pong_silences_everything: ClassVar[bool] = False

    @property
    def client_heartbeat(self) -> str:
        """How the client's own heartbeat works: ``control`` (RFC 6455 pings), ``message``
        (the profile's ping message) or ``watch`` (no client ping: watch the server's)."""
        if not self.client_pings:
            return "watch"
        return "control" if self.client_ping() is None else "message"

    def is_client_pong(self, message: str | bytes) -> bool:
        """Whether ``message`` answers the client's application ping."""
        return False

    def is_control(self, message: str | bytes) -> bool:
        """Whether ``message`` is the framework's own traffic (heartbeat, acks), not an event
        a test waits for."""
        return self.heartbeat_answer(message) is not None or self.is_client_pong(message)


#: Every registered profile by name.
_PROFILES: dict[str, type[ProtocolProfile]] = {}


def register(cls: type[ProtocolProfile]) -> type[ProtocolProfile]:
    """Class decorator: make ``cls`` selectable by its :attr:`~ProtocolProfile.name`."""
    _PROFILES[cls.name] = cls
    return cls


def profile_names() -> list[str]:
    """The names ``WS_PROTOCOL`` accepts, sorted."""
    return sorted(_PROFILES)


def get_profile(name: str) -> ProtocolProfile:
    """The profile named ``name`` (case and surrounding spaces forgiven); fails in one line
    listing every known name."""
    key = str(name).strip().lower()
    if key not in _PROFILES:
        raise ValueError(f"Unknown protocol profile {name!r}; expected one of: {', '.join(profile_names())}.")
    return _PROFILES[key]()


def render_auth_payload(template: str, user: str, token: str | None = None) -> dict[str, Any] | None:
    """``WS_AUTH_PAYLOAD`` for one test user: ``{user}`` and ``{token}`` replaced in every string.

    The template must be a JSON object (``{"token": "letmein", "user": "{user}"}``); an empty
    template means no payload. Replacement happens in parsed strings, never in the JSON text,
    so a name with quotes cannot break the payload. A template that is not a JSON object
    fails in one line that does not repeat it (it may hold a secret).
    """
    if not template or not template.strip():
        return None
    try:
        parsed = json.loads(template)
    except json.JSONDecodeError as exc:
        raise ValueError(f"WS_AUTH_PAYLOAD is not valid JSON ({exc.msg} at character {exc.pos}).") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"WS_AUTH_PAYLOAD must be a JSON object, got a JSON {type(parsed).__name__}.")

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            value = value.replace("{user}", user)
            return value.replace("{token}", token) if token is not None else value
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value

    return fill(parsed)


def payload_secrets(template: str, minimum: int = 4) -> list[str]:
    """The secrets in a ``WS_AUTH_PAYLOAD`` template, to mask in every log: each string value
    at least ``minimum`` characters long that holds no ``{user}`` (a user's name is no secret)
    and no ``{token}`` (tokens are masked by the token source). Not JSON: the whole text."""
    if not template or not template.strip():
        return []
    try:
        parsed = json.loads(template)
    except json.JSONDecodeError:
        return [template]
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if len(value) >= minimum and "{user}" not in value and "{token}" not in value:
                found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(parsed)
    return found


class BareChannel:
    """A :class:`Channel` over a bare ``websockets`` connection (anything with ``send`` and
    ``recv``), for code that holds no observed connection (the flapping engine)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def send(self, message: str | bytes) -> None:
        """Send one message."""
        await self.ws.send(message)

    async def receive(self, timeout: float) -> str | bytes:
        """The next message; ``TimeoutError`` after ``timeout`` seconds."""
        return await asyncio.wait_for(self.ws.recv(), timeout)
