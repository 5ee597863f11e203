"""Heartbeat connections: open them, make them play dead, wait for the server's pings.

The server pings, the client answers with a pong. A client that stops answering is a
*zombie*: the server must notice and terminate it within its ping interval plus its ping
timeout. :class:`HeartbeatKeywords` opens real client connections
(:class:`~wsresilience.core.client.connection.ObservedConnection`), keeps them by name in the
context's ``connections`` registry (``client-1``, ``client-2`` … unless named), switches
their behaviour at run time (``responsive``, ``no-pong``, ``frozen``), holds back single
pings, waits for the server's pings, and runs the client's own heartbeat against the server
(and judges how soon it notices a server that stops answering).

Everything that happens on the loop is a function of :mod:`wsresilience.core.client.observe`
that returns data (the connections opened, the seconds a ping waited, the server's reply);
the keywords here word the failures. The other verdicts (termination bounds, ping
spacing, RTT, the getters, the report) are in
:class:`~wsresilience.components.heartbeat_checks.HeartbeatChecks`, which this class extends:
the two are one component.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

from robot.api import SkipExecution, logger
from robot.api.deco import keyword

from wsresilience.components.base import deprecated_alias
from wsresilience.components.heartbeat_checks import TAG, Connections, HeartbeatChecks
from wsresilience.components.heartbeat_keepalive import KeepaliveKeywords
from wsresilience.components.settings import SettingsKeywords
from wsresilience.context import LibraryContext
from wsresilience.core.client.connection import Behaviour
from wsresilience.core.client.observe import (
    close_connections,
    hold_next_ping,
    mark_server_silenced,
    open_connections,
    request_stop_answering,
    set_behaviours,
    start_client_heartbeats,
    wait_for_server_pings,
    wait_for_server_unresponsive,
)
from wsresilience.core.masking import SecretOrStr, reveal
from wsresilience.core.stats import LatencyStats
from wsresilience.errors import ResilienceFailure


class HeartbeatKeywords(HeartbeatChecks, KeepaliveKeywords):
    """Opens heartbeat connections, switches their behaviour, and drives both heartbeats."""

    def __init__(self, ctx: LibraryContext) -> None:
        super().__init__(ctx)
        ctx.on_close(self._close_every_connection)

    def _close_every_connection(self) -> None:
        """At the end of the library scope: close every connection still known."""
        conns = self.ctx.connections.clear()
        if conns and self.ctx.loop_started:
            self.run(close_connections(conns), "connections to close", timeout=10)
        self.ctx.held_gc.held(0)

    # -- opening and closing -----------------------------------------------------------------

    set_heartbeat_timeout = deprecated_alias(
        "Set Heartbeat Timeout", SettingsKeywords, "set_library_timeout", tags=["Deprecated", "Setter", TAG],
        doc="""Deprecated: use `Set Library Timeout` (in ``wsresilience.WebSocketResilience``).

        Sets the default wait timeout of the library and returns the previous one as a
        Robot time string.
        """)

    @keyword(tags=[TAG])
    def open_heartbeat_connection(
        self,
        url: SecretOrStr,
        behaviour: str = "responsive",
        name: str | None = None,
        timeout: timedelta | None = None,
        source_address: str | None = None,
        ca_file: str | None = None,
        verify_tls: bool | None = None,
    ) -> str:
        """Opens a WebSocket client connection to ``url`` and returns its name.

        ``behaviour`` is ``responsive``, ``no-pong`` or ``frozen`` (see `Behaviours`).
        ``source_address`` binds the client to a local address (e.g. ``127.0.0.2``).
        For ``wss://``: ``ca_file`` is a CA bundle to trust; ``verify_tls=False``
        switches verification off explicitly; either one not given comes from the
        library's target settings (by default: the system CAs, verified). Fails in one
        line when the target refuses, does not resolve, answers plain HTTP, or fails TLS.

        | ${conn} =    Open Heartbeat Connection    ${URL}
        | ${zombie} =    Open Heartbeat Connection    ${URL}    name=zombie
        """
        url = reveal(url)
        return self._open(url, [name or self.ctx.connections.next_name()], behaviour, timeout,
                          source_address, ca_file, verify_tls)[0]

    @keyword(tags=[TAG])
    def open_heartbeat_connections(
        self,
        url: SecretOrStr,
        count: int,
        behaviour: str = "responsive",
        prefix: str = "",
        timeout: timedelta | None = None,
        source_address: str | None = None,
        ca_file: str | None = None,
        verify_tls: bool | None = None,
    ) -> list[str]:
        """Opens ``count`` connections concurrently and returns their names.

        Names are ``<prefix>-1`` … ``<prefix>-N``; without a prefix, ``client-N`` numbered
        across the suite so they never repeat. All must open; the first failure fails the
        keyword and closes the others. TLS arguments as in `Open Heartbeat Connection`.
        """
        url = reveal(url)
        names = ([f"{prefix}-{i + 1}" for i in range(int(count))] if prefix
                 else [self.ctx.connections.next_name() for _ in range(int(count))])
        return self._open(url, names, behaviour, timeout, source_address, ca_file, verify_tls)

    def _open(
        self,
        url: str,
        names: list[str],
        behaviour: str,
        timeout: timedelta | None,
        source_address: str | None,
        ca_file: str | None,
        verify_tls: bool | None,
    ) -> list[str]:
        wanted = Behaviour.parse(behaviour)
        context = self.ctx.target.ssl_context(url, ca_file, verify_tls)
        for n in names:
            if n in self.ctx.connections:
                raise ValueError(f"A connection named {n!r} already exists.")
        open_timeout = self.timeout_or_default(timeout)
        profile = self.ctx.profile
        # Rendered here, on Robot's thread: a {token} may come from a token command.
        auths = {n: self.ctx.auth_payload(n) for n in names} if not profile.reference_protocol else {}
        conns = self.run(open_connections(url, names, wanted, open_timeout, context, source_address,
                                          self.ctx.max_message_size, profile, auths.get,
                                          self.ctx.secret_values()),
                         f"{len(names)} connection(s) to open", open_timeout + 5, target=url)
        for c in conns:
            self.ctx.connections.add(c.name, c)
        self.ctx.held_gc.held(len(self.ctx.connections))
        handshakes = LatencyStats.of([c.handshake_ms or 0.0 for c in conns])
        logger.info(
            f"Opened {len(conns)} {wanted.value} connection(s) to {conns[0].target} ({profile.name}): "
            f"handshake p50 {handshakes.p50:.1f} ms, max {handshakes.max:.1f} ms."
        )
        if conns[0].announced is not None:
            self.ctx.keepalive_announced = conns[0].announced
            self.get_announced_keepalive()
        return names

    @keyword(tags=[TAG])
    def close_heartbeat_connections(self, connections: Connections = "ALL") -> None:
        """Closes connections (default all) and forgets them; frozen ones are aborted."""
        conns = self._connections(connections)
        self.run(close_connections(conns), "connections to close", timeout=10)
        for c in conns:
            self.ctx.connections.pop(c.name)
        self.ctx.held_gc.held(len(self.ctx.connections))

    # -- behaviour -----------------------------------------------------------------------------

    @keyword(tags=["Setter", TAG])
    def set_connection_behaviour(self, connections: Connections, behaviour: str) -> None:
        """Switches connections to ``behaviour``: ``responsive``, ``no-pong`` or ``frozen``.

        Going from responsive to silent starts the silence clock that termination bounds
        are measured from; going back to responsive stops it.

        | Set Connection Behaviour    ${conn}    no-pong
        | Set Connection Behaviour    ${silent}    frozen
        """
        wanted = Behaviour.parse(behaviour)
        conns = self._connections(connections)
        self.call(set_behaviours, conns, wanted)
        logger.info(f"{len(conns)} connection(s) now {wanted.value}.")

    @keyword(tags=[TAG])
    def delay_answering_the_next_ping(
        self, connection: str, delay: timedelta, timeout: timedelta | None = None
    ) -> float:
        """Leaves the next server ping unanswered for ``delay``, then answers it.

        The client freezes, waits (up to ``timeout``) until a server ping arrives unread,
        keeps it unanswered for ``delay``, then reads again and answers. This is a
        silence that certainly covers a ping, so a server that reaps too eagerly is
        caught. Returns the seconds the ping actually waited.
        """
        conn = self._connection(connection)
        wait_ping = self.timeout_or_default(timeout)
        hold = delay.total_seconds()
        if conn.terminated_at is not None:
            raise ResilienceFailure(
                f"Expected {connection} to be open before holding back a ping; {conn.ended_by} had "
                f"already terminated it ({conn.termination})."
            )
        waited = self.run(hold_next_ping(conn, wait_ping, hold), f"a ping to hold back on {connection}",
                          wait_ping + hold + 5)
        if waited is None:
            raise ResilienceFailure(
                f"Expected a server ping on {conn.name} within {wait_ping:.2f} s; none came ({conn.target})."
            )
        logger.info(f"{connection}: a server ping waited {waited * 1000:.0f} ms unanswered.")
        return waited

    # -- waiting ----------------------------------------------------------------------------------

    @keyword(tags=[TAG])
    def wait_for_server_pings(
        self, connection: str, count: int = 1, timeout: timedelta | None = None
    ) -> int:
        """Waits until ``connection`` has received ``count`` server pings in total.

        Fails if the server terminates the connection first, or on timeout. Returns the
        number of pings received.
        """
        conn = self._connection(connection)
        limit = self.timeout_or_default(timeout)
        started = time.monotonic()
        got = self.run(wait_for_server_pings(conn, count, limit), f"{count} server pings on {connection}",
                       limit + 1, conn.url)
        if got >= count:
            return got
        if conn.terminated_at is not None:
            raise ResilienceFailure(
                f"Expected {count} server pings on {connection}; {conn.ended_by} terminated it after "
                f"{got} ({conn.termination})."
            )
        raise ResilienceFailure(
            f"Expected {count} server pings on {connection} within {limit:.2f} s; received "
            f"{got} in {time.monotonic() - started:.2f} s ({conn.target})."
        )

    # -- the client's own heartbeat -----------------------------------------------------------------

    @keyword(tags=[TAG])
    def start_client_heartbeat(
        self,
        connections: Connections,
        interval: timedelta = timedelta(milliseconds=200),
        timeout: timedelta = timedelta(milliseconds=300),
    ) -> None:
        """Starts the client's own heartbeat: a ping every ``interval``, pong within ``timeout``.

        Each answered ping gives a round-trip time; a ping left unanswered for
        ``timeout`` flags the server unresponsive.
        """
        conns = self._connections(connections)
        self.call(start_client_heartbeats, conns, interval.total_seconds(), timeout.total_seconds())

    @keyword(tags=[TAG])
    def make_server_stop_answering(self, connection: str, duration: timedelta = timedelta(seconds=5)) -> None:
        """Asks the reference server to stop answering ``connection`` for ``duration``.

        Uses the reference server's test control (``{"type": "control", "action":
        "stop-answering"}``, see docs/protocol.md): the server stops reading this
        connection and stops pinging it. The clock of `Server Should Be Detected
        Unresponsive Within` starts when the request is sent. The test SKIPs, with the
        reason, when the target does not acknowledge the control (a server other than the
        reference one).
        """
        conn = self._connection(connection)
        profile = self.ctx.profile
        if self.ctx.profile_chosen and not profile.reference_protocol:
            raise SkipExecution(
                f"Stop-answering is a test control of the reference protocol (docs/protocol.md, section 3); "
                f"WS_PROTOCOL is {profile.name}: the fault proxy's blackhole checks the same detection."
            )
        reply_within = 2.0
        reply = self.run(request_stop_answering(conn, duration.total_seconds(), reply_within),
                         f"the server to acknowledge stop-answering on {connection}", reply_within + 3)
        try:
            acked = reply is not None and json.loads(reply).get("type") == "control-ack"
        except (ValueError, AttributeError):
            acked = False
        if not acked:
            said = f"it answered {reply!r}" if reply is not None else f"no reply within {reply_within:g} s"
            raise SkipExecution(
                f"The target {conn.target} does not support the stop-answering test control "
                f"({said}); use the fault proxy's blackhole instead."
            )

    @keyword(tags=["Setter", TAG])
    def mark_server_silent_from_now(self, connection: str) -> None:
        """Starts the clock for `Server Should Be Detected Unresponsive Within` now.

        Use it right after cutting the server off by other means than the reference
        server's control, e.g. blackholing the fault proxy the connection goes through:

        | Blackhole Proxy    ${proxy}
        | Mark Server Silent From Now    ${client}
        | Server Should Be Detected Unresponsive Within    ${client}    750 ms
        """
        conn = self._connection(connection)
        self.call(mark_server_silenced, conn, time.monotonic())

    @keyword(tags=["Assertion", TAG])
    def server_should_be_detected_unresponsive_within(
        self, connection: str, bound: timedelta, criterion: str = ""
    ) -> float:
        """Fails unless the client heartbeat flags the server within ``bound``.

        The clock starts when `Make Server Stop Answering` sent its request (or at `Mark
        Server Silent From Now`). Logs the detection time beside the bound; returns it in
        seconds.
        """
        conn = self._connection(connection)
        stopped = conn.server_silenced_at
        if stopped is None:
            raise ValueError(
                f"Use Make Server Stop Answering or Mark Server Silent From Now on {connection} first."
            )
        if conn.heartbeat_interval is None:
            raise ValueError(f"Start Client Heartbeat on {connection} first.")
        limit = bound.total_seconds()
        self.run(wait_for_server_unresponsive(conn, limit),
                 f"the client heartbeat on {connection} to flag the server", limit + 5)
        detected = conn.server_unresponsive_at
        pong_timeout_ms = (conn.heartbeat_timeout or 0) * 1000
        watching = conn.profile.client_heartbeat == "watch"
        how = "watching server pings: pingInterval" if watching else "client heartbeat every"
        missing = "no server ping within pingInterval + pingTimeout" if watching else \
            f"no pong within {pong_timeout_ms:.0f} ms"
        if detected is not None:
            logger.info(f"The client heartbeat flagged the server unresponsive after {detected - stopped:.3f} s: "
                        f"{missing}.")
        return self._judge_elapsed(
            "server unresponsive detected after", stopped, detected, limit, criterion, "Client heartbeat detection",
            seen=(f"{how} {conn.heartbeat_interval * 1000:.0f} ms, timeout {pong_timeout_ms:.0f} ms",
                  lambda took: f"Expected the client heartbeat to flag the server within {limit:.3f} s; it took "
                               f"{took:.3f} s ({conn.target})."),
            unseen=("not detected", lambda waited: f"Expected the client heartbeat to flag {conn.target} "
                                                   f"unresponsive within {limit:.3f} s; it had not after "
                                                   f"{waited:.3f} s."),
        )
