"""Keywords that choose the protocol the target speaks above RFC 6455, and its auth payload.

The suites call `Use Protocol Profile` with the run contract's ``WS_PROTOCOL`` and `Use Auth
Payload` with ``WS_AUTH_PAYLOAD`` in their setup (``resources/target.resource``); every
connection opened afterwards (heartbeat connections, flapping clients, Socket.IO streams)
follows the chosen profile. The profiles themselves live in
:mod:`wsresilience.core.profiles` (docs/profiles.md).
"""

from __future__ import annotations

from assertionengine import AssertionOperator
from robot.api import logger
from robot.api.deco import keyword
from robot.api.types import Secret
from robot.libraries.BuiltIn import BuiltIn

from wsresilience.components.base import LibraryComponent
from wsresilience.core.evidence.judge import check
from wsresilience.core.profiles import profile_names

TAG = "Protocol"


class ProtocolKeywords(LibraryComponent):
    """The protocol profile (``WS_PROTOCOL``) and auth payload (``WS_AUTH_PAYLOAD``)."""

    @keyword(tags=["Setter", TAG])
    def use_protocol_profile(self, name: str = "") -> str:
        """Selects the protocol the target speaks, for connections opened from now on; returns
        the profile's name.

        ``name`` is one of ``reference`` (docs/protocol.md), ``rfc6455`` (any WebSocket
        server), ``socketio`` (Socket.IO 4) or ``graphql-ws`` (``graphql-transport-ws``).
        Empty: ``reference`` as the default, which the suites use where the target answers
        it and SKIP where it does not (`Skip Unless Protocol Speaks Reference` does not skip
        for a default it was not told).

        | Use Protocol Profile    socketio
        """
        profile = self.ctx.use_profile(name)
        chosen = "chosen" if self.ctx.profile_chosen else "the default"
        logger.info(f"Protocol profile {profile.name} ({chosen}): {profile.description}.")
        return profile.name

    @keyword(tags=["Getter", TAG])
    def get_protocol_profile(self, assertion_operator: AssertionOperator | None = None,
                             assertion_expected: str | None = None, message: str | None = None) -> str:
        """Returns the name of the protocol profile in use, optionally asserting it.

        | ${profile} =    Get Protocol Profile
        | Get Protocol Profile    ==    socketio
        """
        return check(self.ctx.profile.name, assertion_operator, assertion_expected, "protocol profile",
                     message=message)

    @keyword(tags=["Getter", TAG])
    def get_protocol_profiles(self) -> list[str]:
        """Returns the names `Use Protocol Profile` accepts."""
        return profile_names()

    @keyword(tags=["Setter", TAG])
    def use_auth_payload(self, template: Secret | str) -> None:
        """Sends ``template`` (a JSON object) as the auth payload of every application
        handshake from now on: Socket.IO's ``CONNECT`` ``auth``, graphql-ws's
        ``connection_init`` payload.

        ``{user}`` in any string of it becomes each test user's name, ``{token}`` that user's
        token from the token source. Pass it as a ``Secret`` (`Get Secret Variable`
        ``WS_AUTH_PAYLOAD``): its values are masked in every message. Empty: no payload.

        | ${payload} =    Get Secret Variable    WS_AUTH_PAYLOAD
        | Use Auth Payload    ${payload}
        """
        text = template.value if isinstance(template, Secret) else template
        self.ctx.use_auth_payload(text)
        logger.info("Auth payload set." if text.strip() else "No auth payload.")

    @keyword(tags=[TAG])
    def skip_unless_protocol_speaks_reference(self, what: str) -> None:
        """Skips the current test, with the reason, when the chosen profile does not speak
        docs/protocol.md (sessions, streams, agents): ``what`` says what needs it.

        Does nothing with the default profile: the suite then tries the reference protocol and
        skips where the target does not answer it, as it always has.

        | Skip Unless Protocol Speaks Reference    Session resume
        """
        profile = self.ctx.profile
        if self.ctx.profile_chosen and not profile.reference_protocol:
            BuiltIn().skip(f"{what} needs the reference protocol (docs/protocol.md); WS_PROTOCOL is "
                           f"{profile.name} ({profile.description}).")
