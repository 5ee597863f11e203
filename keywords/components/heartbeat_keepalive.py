"""The keepalive a heartbeat check requires, the one the service announces, and the profile's
client heartbeat: what the heartbeat suite needs to judge every profile by the same criteria.

The requirement is the run contract's ``SERVER_PING_INTERVAL`` / ``SERVER_PING_TIMEOUT``
(`Require Server Keepalive`, called by the heartbeat suite's setup). Some frameworks announce
their own values in the handshake (Socket.IO's ``pingInterval`` and ``pingTimeout`` in
Engine.IO's open packet); each connection records them, `Get Announced Keepalive` logs them
beside the requirement, and a heartbeat failure names them when they are looser than the
requirement (:func:`with_keepalive_note`), so the reader sees the cause at once.

The client's own heartbeat differs by profile (`Get Client Heartbeat Mode`): RFC 6455 pings,
a ping message (graphql-ws), or none at all (Socket.IO: Engine.IO v4 closes a client that
pings, so the client watches the server's pings, as socket.io-client does).
"""

from __future__ import annotations

from datetime import timedelta

from assertionengine import AssertionOperator
from robot.api import logger
from robot.api.deco import keyword

from wsresilience.components.base import LibraryComponent
from wsresilience.context import LibraryContext
from wsresilience.core.evidence.judge import check

TAG = "Heartbeat"


def with_keepalive_note(ctx: LibraryContext, message: str) -> str:
    """``message`` (one line), with the reason the announced keepalive cannot meet the
    requirement appended when it cannot."""
    note = ctx.keepalive_note()
    return f"{message.rstrip().rstrip('.')}; {note}." if note else message


class KeepaliveKeywords(LibraryComponent):
    """The required keepalive, the announced one, and the profile's client heartbeat."""

    @keyword(tags=["Setter", TAG])
    def require_server_keepalive(self, interval: timedelta, timeout: timedelta) -> None:
        """Sets the server keepalive the heartbeat checks require: ``interval`` between pings
        and ``timeout`` for the answer (the run contract's ``SERVER_PING_INTERVAL`` and
        ``SERVER_PING_TIMEOUT``).

        Heartbeat failures compare it with what the service announces itself and say so
        when the announced values are looser.

        | Require Server Keepalive    ${SERVER_PING_INTERVAL}    ${SERVER_PING_TIMEOUT}
        """
        self.ctx.require_keepalive(interval.total_seconds(), timeout.total_seconds())

    @keyword(tags=["Getter", TAG])
    def get_announced_keepalive(self, assertion_operator: AssertionOperator | None = None,
                                assertion_expected: object = None, message: str | None = None) -> dict[str, float]:
        """Returns the keepalive the service announced in its handshake, in milliseconds
        (``ping_interval_ms``, ``ping_timeout_ms``; empty when it announces none, as every
        profile but Socket.IO), and logs it beside the required one.

        Reads the most recently opened connection's handshake.

        | ${announced} =    Get Announced Keepalive
        """
        announced = self.ctx.keepalive_announced
        values: dict[str, float] = {}
        if announced is None:
            logger.info(f"The {self.ctx.profile.name} service announces no keepalive of its own.")
        else:
            values = {"ping_interval_ms": announced.ping_interval * 1000, "ping_timeout_ms": announced.ping_timeout * 1000}
            required = self.ctx.keepalive_required
            against = (f"; required {required[0] * 1000:.0f} ms / {required[1] * 1000:.0f} ms"
                       if required else "")
            verdict = self.ctx.keepalive_note() or "within the requirement" if required else ""
            logger.info(f"The service announces pingInterval {values['ping_interval_ms']:.0f} ms and pingTimeout "
                        f"{values['ping_timeout_ms']:.0f} ms{against}{': ' + verdict if verdict else ''}.")
        return check(values, assertion_operator, assertion_expected, "announced keepalive", message=message)

    @keyword(tags=["Getter", TAG])
    def get_client_heartbeat_mode(self, assertion_operator: AssertionOperator | None = None,
                                  assertion_expected: str | None = None, message: str | None = None) -> str:
        """Returns how the chosen profile's client heartbeat works: ``control`` (RFC 6455
        pings, round-trip times measured), ``message`` (a ping message, e.g. graphql-ws's
        ``{"type": "ping"}``, round-trip times measured) or ``watch`` (the client may not
        ping, as in Socket.IO: it watches the server's pings and measures no round trip).

        | ${mode} =    Get Client Heartbeat Mode
        """
        return check(self.ctx.profile.client_heartbeat, assertion_operator, assertion_expected,
                     "client heartbeat mode", message=message)
