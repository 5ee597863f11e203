"""Heartbeat and zombie-connection testing over real WebSocket connections."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from datetime import timedelta

from assertionengine import AssertionOperator
from robot.api import SkipExecution, logger
from robot.api.deco import keyword, library

from keywords import __version__
from keywords.core.evidence.judge import check
from keywords.core.client.connection import Behaviour, ConnState, ObservedConnection
from keywords.core.evidence.figures import Figure, figure_table
from keywords.core.runtime.library import LoopLibrary
from keywords.core.runtime.loop import gather_settled
from keywords.core.evidence.connections import (
    connection_summary,
    latency_table,
    rtt_histogram_svg,
    timeline_svg,
    timeline_table,
)
from keywords.core.stats import LatencyStats
from keywords.core.runtime.timeouts import TimeLike, percent, seconds

Connections = str | list[str] | tuple[str, ...]


@library(scope="SUITE", version=__version__, doc_format="ROBOT")
class Heartbeat(LoopLibrary):
    """Tests heartbeats and zombie detection over real WebSocket connections.

    The server pings, the client answers with a pong. A client that stops answering is a
    *zombie*: the server must notice and terminate it within its ping interval plus its
    ping timeout, and free what it held. This library opens real client connections
    whose behaviour you switch at run time, records everything that happens to them, and
    measures it.

    = Behaviours =

    | =Behaviour=  | =What the client does=                                          |
    | responsive   | answers every ping with a pong                                  |
    | no-pong      | keeps reading and receiving, but drops its pongs               |
    | frozen       | stops reading altogether, like a hung process                  |

    A ``frozen`` client cannot read the server's close frame, yet it still sees the
    server give up: it peeks at the unread bytes (a close frame waiting) and at its TCP
    state (the server's FIN turns it CLOSE_WAIT; a reset breaks it).

    = Connections =

    Every connection has a name (``client-1`` … or the one you give). Keywords taking
    ``connections`` accept one name, a list of names, or ``ALL`` for every open one.

    = Client heartbeat =

    `Start Client Heartbeat` makes the client ping the server at its own interval,
    measuring round-trip time (RTT) and flagging a server that stops answering.

    = Evidence =

    Keywords that judge a figure log it beside its threshold and margin. `Log Heartbeat
    Report` logs, per connection, the state timeline, the events (ping received, pong
    sent, pong suppressed, close with code and reason) and the latency statistics.

    = Timeouts =

    Every wait has a timeout: the library default (``timeout`` at import, 10 s) unless
    the keyword takes its own. A wait that runs out fails with one line naming what it
    waited for, the target (secrets masked) and the time spent.

    = Example =

    | ${conn} =    Open Heartbeat Connection    ${URL}
    | Wait For Server Pings    ${conn}    count=5
    | Set Connection Behaviour    ${conn}    no-pong
    | Connection Should Be Terminated Within    ${conn}    1.25 s
    """

    def __init__(self, timeout: TimeLike = timedelta(seconds=10)) -> None:
        """``timeout`` is the default for every wait."""
        super().__init__(timeout)
        self._connections: dict[str, ObservedConnection] = {}
        self._counter = 0
        self._stop_requested: dict[str, float] = {}

    # -- bookkeeping ----------------------------------------------------------------------

    def _cleanup(self) -> None:
        if self._loop is not None and self._connections:
            self._close_all(list(self._connections.values()))
        self._connections.clear()
        super()._cleanup()

    def _close_all(self, conns: list[ObservedConnection]) -> None:
        async def close_all() -> None:
            await gather_settled(*(c.close() for c in conns))

        self._run(close_all(), "connections to close", timeout=10)

    def _get(self, name: str) -> ObservedConnection:
        try:
            return self._connections[name]
        except KeyError:
            known = ", ".join(self._connections) or "none"
            raise ValueError(f"No connection named {name!r}; open ones: {known}.") from None

    def _many(self, connections: Connections | None) -> list[ObservedConnection]:
        if connections is None or connections == "ALL":
            return list(self._connections.values())
        names = [connections] if isinstance(connections, str) else list(connections)
        return [self._get(n) for n in names]

    # -- opening and closing -----------------------------------------------------------------

    @keyword
    def set_heartbeat_timeout(self, timeout: timedelta) -> str:
        """Sets the library's default wait timeout and returns the previous one."""
        return self._set_timeout(timeout)

    def _ssl(self, url: str, ca_file: str | None, verify_tls: bool) -> ssl.SSLContext | None:
        if not url.startswith("wss://"):
            return None
        context = ssl.create_default_context(cafile=ca_file or None)
        if not verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    @keyword
    def open_heartbeat_connection(
        self,
        url: str,
        behaviour: str = "responsive",
        name: str | None = None,
        timeout: timedelta | None = None,
        source_address: str | None = None,
        ca_file: str | None = None,
        verify_tls: bool = True,
    ) -> str:
        """Opens a WebSocket client connection to ``url`` and returns its name.

        ``behaviour`` is ``responsive``, ``no-pong`` or ``frozen`` (see `Behaviours`).
        ``source_address`` binds the client to a local address (e.g. ``127.0.0.2``).
        For ``wss://``: ``ca_file`` is a CA bundle to trust; ``verify_tls=False``
        switches verification off explicitly. Fails in one line when the target refuses,
        does not resolve, answers plain HTTP, or fails TLS.

        | ${conn} =    Open Heartbeat Connection    ${URL}
        | ${zombie} =    Open Heartbeat Connection    ${URL}    name=zombie
        """
        return self._open(url, [name or self._next_name()], behaviour, timeout,
                          source_address, ca_file, verify_tls)[0]

    @keyword
    def open_heartbeat_connections(
        self,
        url: str,
        count: int,
        behaviour: str = "responsive",
        prefix: str = "",
        timeout: timedelta | None = None,
        source_address: str | None = None,
        ca_file: str | None = None,
        verify_tls: bool = True,
    ) -> list[str]:
        """Opens ``count`` connections concurrently and returns their names.

        Names are ``<prefix>-1`` … ``<prefix>-N``; without a prefix, ``client-N`` numbered
        across the suite so they never repeat. All must open; the first failure fails the
        keyword and closes the others.
        """
        names = ([f"{prefix}-{i + 1}" for i in range(int(count))] if prefix
                 else [self._next_name() for _ in range(int(count))])
        return self._open(url, names, behaviour, timeout, source_address, ca_file, verify_tls)

    def _next_name(self) -> str:
        self._counter += 1
        return f"client-{self._counter}"

    def _open(
        self,
        url: str,
        names: list[str],
        behaviour: str,
        timeout: timedelta | None,
        source_address: str | None,
        ca_file: str | None,
        verify_tls: bool,
    ) -> list[str]:
        wanted = Behaviour.parse(behaviour)
        context = self._ssl(url, ca_file, verify_tls)
        for n in names:
            if n in self._connections:
                raise ValueError(f"A connection named {n!r} is already open.")
        open_timeout = seconds(timeout, self._timeout)

        async def open_all() -> list[ObservedConnection]:
            conns = [ObservedConnection(n, url) for n in names]
            results = await gather_settled(
                *(c.open(open_timeout, context, source_address) for c in conns)
            )
            failures = [r for r in results if isinstance(r, BaseException)]
            if failures:
                await gather_settled(*(c.close() for c in conns))
                raise failures[0]
            for c in conns:
                c.set_behaviour(wanted)
            return conns

        conns = self._run(open_all(), f"{len(names)} connection(s) to open", open_timeout + 5,
                          target=url)
        for c in conns:
            self._connections[c.name] = c
        handshakes = LatencyStats.of([c.handshake_ms or 0.0 for c in conns])
        logger.info(
            f"Opened {len(conns)} {wanted.value} connection(s) to {conns[0].target}: "
            f"handshake p50 {handshakes.p50:.1f} ms, max {handshakes.max:.1f} ms."
        )
        return names

    @keyword
    def close_heartbeat_connections(self, connections: Connections = "ALL") -> None:
        """Closes connections (default all) and forgets them; frozen ones are aborted."""
        conns = self._many(connections)
        self._close_all(conns)
        for c in conns:
            self._connections.pop(c.name, None)

    # -- behaviour -----------------------------------------------------------------------------

    @keyword
    def set_connection_behaviour(self, connections: Connections, behaviour: str) -> None:
        """Switches connections to ``behaviour``: ``responsive``, ``no-pong`` or ``frozen``.

        Going from responsive to silent starts the silence clock that termination bounds
        are measured from; going back to responsive stops it.

        | Set Connection Behaviour    ${conn}    no-pong
        | Set Connection Behaviour    ${silent}    frozen
        """
        wanted = Behaviour.parse(behaviour)
        conns = self._many(connections)

        def switch() -> None:
            for c in conns:
                c.set_behaviour(wanted)

        self._call(switch)
        logger.info(f"{len(conns)} connection(s) now {wanted.value}.")

    @keyword
    def delay_answering_the_next_ping(
        self, connection: str, delay: timedelta, timeout: timedelta | None = None
    ) -> float:
        """Leaves the next server ping unanswered for ``delay``, then answers it.

        The client freezes, waits (up to ``timeout``) until a server ping arrives unread,
        keeps it unanswered for ``delay``, then reads again and answers. This is a
        silence that certainly covers a ping, so a server that reaps too eagerly is
        caught. Returns the seconds the ping actually waited.
        """
        conn = self._get(connection)
        wait_ping = seconds(timeout, self._timeout)
        hold = delay.total_seconds()

        if conn.terminated_at is not None:
            raise AssertionError(
                f"Expected {connection} to be open before holding back a ping; the server had "
                f"already terminated it ({conn.termination})."
            )

        async def go() -> float:
            conn.set_behaviour(Behaviour.FROZEN)
            before = conn.events.count("ping received")
            got = await conn.wait_for(
                lambda: conn.events.count("ping received") > before or conn.terminated_at is not None,
                wait_ping,
            )
            if not got:
                conn.set_behaviour(Behaviour.RESPONSIVE)
                raise AssertionError(
                    f"Expected a server ping on {conn.name} within {wait_ping:.2f} s; none came "
                    f"({conn.target})."
                )
            arrived = conn.events.of_kind("ping received")[-1].t
            await conn.wait_for(lambda: conn.terminated_at is not None,
                                max(0.0, arrived + hold - time.monotonic()))
            conn.set_behaviour(Behaviour.RESPONSIVE)
            return time.monotonic() - arrived

        waited = self._run(go(), f"a ping to hold back on {connection}", wait_ping + hold + 5)
        logger.info(f"{connection}: a server ping waited {waited * 1000:.0f} ms unanswered.")
        return waited

    # -- waiting and observing ------------------------------------------------------------------

    @keyword
    def wait_for_server_pings(
        self, connection: str, count: int = 1, timeout: timedelta | None = None
    ) -> int:
        """Waits until ``connection`` has received ``count`` server pings in total.

        Fails if the server terminates the connection first, or on timeout. Returns the
        number of pings received.
        """
        conn = self._get(connection)
        limit = seconds(timeout, self._timeout)
        started = time.monotonic()

        async def wait() -> bool:
            return await conn.wait_for(
                lambda: conn.events.count("ping received") >= count or conn.terminated_at is not None,
                limit,
            )

        self._run(wait(), f"{count} server pings on {connection}", limit + 1, conn.target)
        got = conn.events.count("ping received")
        if conn.terminated_at is not None and got < count:
            raise AssertionError(
                f"Expected {count} server pings on {connection}; the server terminated it after "
                f"{got} ({conn.termination})."
            )
        if got < count:
            raise AssertionError(
                f"Expected {count} server pings on {connection} within {limit:.2f} s; received "
                f"{got} in {time.monotonic() - started:.2f} s ({conn.target})."
            )
        return got

    @keyword
    def connections_should_stay_open_for(
        self, connections: Connections, duration: timedelta, criterion: str = ""
    ) -> None:
        """Observes ``connections`` for ``duration`` and fails at the first termination.

        This is a measurement window, not a pause: it returns early with a failure as
        soon as the server terminates one of them.
        """
        conns = self._many(connections)
        window = duration.total_seconds()

        async def observe() -> None:
            async def one(c: ObservedConnection) -> None:
                await c.wait_for(lambda: c.terminated_at is not None, window)

            tasks = [asyncio.ensure_future(one(c)) for c in conns]
            deadline = time.monotonic() + window
            pending = set(tasks)
            while pending and time.monotonic() < deadline:
                done, pending = await asyncio.wait(
                    pending, timeout=deadline - time.monotonic(), return_when=asyncio.FIRST_COMPLETED
                )
                if any(c.terminated_at is not None for c in conns):
                    break
            for t in pending:
                t.cancel()

        self._run(observe(), f"{len(conns)} connection(s) to stay open", window + 5)
        dead = [c for c in conns if c.terminated_at is not None]
        figure = Figure("connections terminated while observed", len(dead), "", 0, "==", criterion,
                        note=f"{len(conns)} observed for {window:.2f} s")
        logger.info(figure_table([figure], "False positives"), html=True)
        if dead:
            c = dead[0]
            raise AssertionError(
                f"Expected {len(conns)} connection(s) to stay open for {window:.2f} s; the server "
                f"terminated {', '.join(d.name for d in dead)} ({c.name}: {c.termination})."
            )

    # -- termination -------------------------------------------------------------------------------

    @keyword
    def connection_should_be_terminated_within(
        self, connection: str, bound: timedelta, criterion: str = ""
    ) -> float:
        """Fails unless the server terminates ``connection`` within ``bound`` of its silence.

        The clock starts when the connection went silent (`Set Connection Behaviour`).
        Logs the termination time beside the bound, with the close code and reason seen.
        Returns the termination time in seconds.
        """
        conn = self._get(connection)
        if conn.silent_since is None and conn.terminated_at is None:
            raise ValueError(
                f"{connection} is responsive; make it silent first with Set Connection Behaviour."
            )
        limit = bound.total_seconds()

        async def wait() -> None:
            assert conn.silent_since is not None
            remaining = conn.silent_since + limit - time.monotonic()
            await conn.wait_for(lambda: conn.terminated_at is not None, max(0.0, remaining))

        self._run(wait(), f"the server to terminate {connection}", limit + 5, conn.target)
        return self._judge_termination(conn, limit, criterion)

    def _judge_termination(self, conn: ObservedConnection, limit: float, criterion: str) -> float:
        assert conn.silent_since is not None
        if conn.terminated_at is None:
            waited = time.monotonic() - conn.silent_since
            figure = Figure(f"{conn.name} ({conn.behaviour}) termination", float("nan"), "s",
                            limit, "<=", criterion, note="not terminated")
            logger.info(figure_table([figure], "Zombie termination"), html=True)
            raise AssertionError(
                f"Expected the server to terminate {conn.name} ({conn.behaviour.value}) within "
                f"{limit:.3f} s of going silent; it was still open after {waited:.3f} s "
                f"({conn.target})."
            )
        took = conn.terminated_at - conn.silent_since
        code = f"close {conn.close_code} {conn.close_reason}".strip() if conn.close_code else "no close frame"
        figure = Figure(f"{conn.name} ({conn.behaviour.value}) termination", took, "s", limit, "<=",
                        criterion, note=f"{conn.termination}; {code}")
        logger.info(figure_table([figure], "Zombie termination"), html=True)
        if not figure.passed:
            raise AssertionError(
                f"Expected the server to terminate {conn.name} ({conn.behaviour.value}) within "
                f"{limit:.3f} s of going silent; it took {took:.3f} s ({conn.termination})."
            )
        return took

    @keyword
    def get_termination_time(
        self,
        connection: str,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: float | None = None,
    ) -> float | None:
        """Returns seconds from going silent to being terminated (``None`` if not terminated)."""
        conn = self._get(connection)
        took = None
        if conn.terminated_at is not None and conn.silent_since is not None:
            took = conn.terminated_at - conn.silent_since
        return check(took, assertion_operator, assertion_expected, f"{connection} termination time", "s")

    @keyword
    def get_close_code(
        self,
        connection: str,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: int | None = None,
    ) -> int | None:
        """Returns the close code the server sent (``None`` if none was seen)."""
        return check(self._get(connection).close_code, assertion_operator, assertion_expected,
                     f"{connection} close code")

    @keyword
    def get_connection_state(
        self,
        connection: str,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: str | None = None,
    ) -> str:
        """Returns ``CONNECTING``, ``OPEN``, ``SILENT``, ``TERMINATED`` or ``CLOSED``."""
        return check(self._get(connection).state.value, assertion_operator, assertion_expected,
                     f"{connection} state")

    @keyword
    def only_silent_connections_should_be_terminated(
        self,
        silent: Connections,
        healthy: Connections,
        bound: timedelta,
        criterion: str = "",
    ) -> None:
        """Checks that exactly the ``silent`` connections were terminated within ``bound``.

        Waits until every silent connection is terminated or ``bound`` has passed since
        the last went silent, then watches one more bound for late terminations of
        healthy ones. Fails naming the false negatives (silent, still open) and false
        positives (healthy, terminated), with counts logged as figures.
        """
        zombies, alive = self._many(silent), self._many(healthy)
        limit = bound.total_seconds()
        starts = [c.silent_since for c in zombies if c.silent_since is not None]
        if len(starts) != len(zombies):
            raise ValueError("Every connection in 'silent' must have been made silent first.")

        async def wait() -> None:
            deadline = max(starts) + limit
            await gather_settled(*(
                c.wait_for(lambda c=c: c.terminated_at is not None, max(0.0, deadline - time.monotonic()))
                for c in zombies
            ))
            await gather_settled(*(
                c.wait_for(lambda c=c: c.terminated_at is not None, limit) for c in alive
            ))

        self._run(wait(), "silent connections to be terminated", 2 * limit + 10)
        late = [c for c in zombies if c.terminated_at is None or
                c.terminated_at - (c.silent_since or 0) > limit]
        false_pos = [c for c in alive if c.terminated_at is not None]
        worst = max((c.terminated_at - c.silent_since for c in zombies
                     if c.terminated_at is not None and c.silent_since is not None), default=float("nan"))
        figures = [
            Figure("silent connections not terminated in time (false negatives)", len(late), "",
                   0, "==", criterion),
            Figure("healthy connections terminated (false positives)", len(false_pos), "", 0, "==",
                   criterion),
            Figure("slowest zombie termination", worst, "s", limit, "<=", criterion,
                   note=f"{len(zombies)} silent, {len(alive)} healthy"),
        ]
        logger.info(figure_table(figures, "Zombie detection under load"), html=True)
        problems = []
        if late:
            problems.append(f"{len(late)} silent not terminated within {limit:.3f} s "
                            f"({', '.join(c.name for c in late[:5])}{'…' if len(late) > 5 else ''})")
        if false_pos:
            problems.append(f"{len(false_pos)} healthy terminated "
                            f"({', '.join(f'{c.name}: {c.termination}' for c in false_pos[:3])})")
        if problems:
            raise AssertionError(
                f"Expected exactly the {len(zombies)} silent of {len(zombies) + len(alive)} "
                f"connections to be terminated; " + "; ".join(problems) + "."
            )

    # -- server answering -----------------------------------------------------------------------------

    @keyword
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
        conns = self._many(connections)

        def start() -> None:
            for c in conns:
                c.start_heartbeat(interval.total_seconds(), timeout.total_seconds())

        self._call(start)

    @keyword
    def make_server_stop_answering(self, connection: str, duration: timedelta = timedelta(seconds=5)) -> None:
        """Asks the reference server to stop answering ``connection`` for ``duration``.

        Uses the reference server's test control (``{"type": "control", "action":
        "stop-answering"}``, see docs/protocol.md): the server stops reading this
        connection and stops pinging it. The test SKIPs, with the reason, when the target
        does not acknowledge the control (a server other than the reference one).
        """
        conn = self._get(connection)
        request = {"type": "control", "action": "stop-answering", "seconds": duration.total_seconds()}

        async def ask() -> str | None:
            while not conn.messages.empty():
                conn.messages.get_nowait()
            sent = time.monotonic()
            await conn.send(json.dumps(request))
            self._stop_requested[connection] = sent
            try:
                reply = await conn.receive(2.0)
            except TimeoutError:
                return None
            return reply if isinstance(reply, str) else None

        reply = self._run(ask(), f"the server to acknowledge stop-answering on {connection}", 5)
        try:
            acked = reply is not None and json.loads(reply).get("type") == "control-ack"
        except ValueError:
            acked = False
        if not acked:
            raise SkipExecution(
                f"The target {conn.target} does not support the stop-answering test control "
                f"(it answered {reply!r}); use the fault proxy's blackhole instead."
            )

    @keyword
    def mark_server_silent_from_now(self, connection: str) -> None:
        """Starts the clock for `Server Should Be Detected Unresponsive Within` now.

        Use it right after cutting the server off by other means than the reference
        server's control, e.g. blackholing the fault proxy the connection goes through:

        | Blackhole Proxy    ${proxy}
        | Mark Server Silent From Now    ${client}
        | Server Should Be Detected Unresponsive Within    ${client}    750 ms
        """
        self._get(connection)
        self._stop_requested[connection] = time.monotonic()

    @keyword
    def server_should_be_detected_unresponsive_within(
        self, connection: str, bound: timedelta, criterion: str = ""
    ) -> float:
        """Fails unless the client heartbeat flags the server within ``bound``.

        The clock starts when `Make Server Stop Answering` sent its request (or at `Mark
        Server Silent From Now`). Logs the detection time beside the bound; returns it in
        seconds.
        """
        conn = self._get(connection)
        if connection not in self._stop_requested:
            raise ValueError(
                f"Use Make Server Stop Answering or Mark Server Silent From Now on {connection} first."
            )
        if conn.heartbeat_interval is None:
            raise ValueError(f"Start Client Heartbeat on {connection} first.")
        stopped = self._stop_requested[connection]
        limit = bound.total_seconds()

        async def wait() -> None:
            await conn.wait_for(lambda: conn.server_unresponsive_at is not None,
                                max(0.0, stopped + limit - time.monotonic()))

        self._run(wait(), f"the client heartbeat on {connection} to flag the server", limit + 5)
        if conn.server_unresponsive_at is None:
            figure = Figure("server unresponsive detected after", float("nan"), "s", limit, "<=",
                            criterion, note="not detected")
            logger.info(figure_table([figure], "Client heartbeat detection"), html=True)
            raise AssertionError(
                f"Expected the client heartbeat to flag {conn.target} unresponsive within "
                f"{limit:.3f} s; it had not after {time.monotonic() - stopped:.3f} s."
            )
        took = conn.server_unresponsive_at - stopped
        figure = Figure("server unresponsive detected after", took, "s", limit, "<=", criterion,
                        note=f"client heartbeat every {conn.heartbeat_interval * 1000:.0f} ms, "
                             f"timeout {(conn.heartbeat_timeout or 0) * 1000:.0f} ms")
        logger.info(figure_table([figure], "Client heartbeat detection"), html=True)
        logger.info(f"The client heartbeat flagged the server unresponsive after {took:.3f} s: "
                    f"no pong within {(conn.heartbeat_timeout or 0) * 1000:.0f} ms.")
        if not figure.passed:
            raise AssertionError(
                f"Expected the client heartbeat to flag the server within {limit:.3f} s; it took "
                f"{took:.3f} s ({conn.target})."
            )
        return took

    # -- measurements ------------------------------------------------------------------------------------

    @keyword
    def every_server_ping_should_be_answered(self, connections: Connections = "ALL") -> int:
        """Fails unless each connection answered every server ping it received.

        Returns the total number of pings answered.
        """
        total = 0
        for c in self._many(connections):
            pings = c.events.count("ping received")
            pongs = c.events.count("pong sent")
            if pings == 0:
                raise AssertionError(
                    f"Expected server pings on {c.name}; it received none ({c.target})."
                )
            if pongs < pings:
                raise AssertionError(
                    f"Expected {c.name} to answer all {pings} server pings; it sent {pongs} pongs "
                    f"({c.events.count('pong suppressed')} suppressed)."
                )
            total += pongs
        return total

    @keyword
    def ping_spacing_should_be(
        self,
        connection: str,
        expected: timedelta,
        tolerance: str = "10%",
        criterion: str = "",
    ) -> list[float]:
        """Fails unless every gap between consecutive server pings is ``expected`` ± tolerance.

        ``tolerance`` is a percentage of ``expected`` (``10%``) or a time (``50 ms``).
        Logs min, mean and max spacing as figures; returns the gaps in seconds.
        """
        conn = self._get(connection)
        times = [e.t for e in conn.events.of_kind("ping received")]
        gaps = [b - a for a, b in zip(times, times[1:])]
        want = expected.total_seconds()
        tol = want * percent(tolerance) if tolerance.strip().endswith("%") else seconds(tolerance)
        if not gaps:
            raise AssertionError(
                f"Expected at least two server pings on {connection} to measure spacing; got "
                f"{len(times)} ({conn.target})."
            )
        figures = [
            Figure(f"{label} ping spacing", value, "s", want, "within", criterion, tolerance=tol,
                   note=f"{len(gaps)} gaps")
            for label, value in (("min", min(gaps)), ("mean", sum(gaps) / len(gaps)), ("max", max(gaps)))
        ]
        logger.info(figure_table(figures, f"Server ping spacing on {connection}"), html=True)
        bad = [(i, g) for i, g in enumerate(gaps) if abs(g - want) > tol]
        if bad:
            i, g = bad[0]
            raise AssertionError(
                f"Expected server pings every {want:.3f} s ± {tol:.3f} s on {connection}; "
                f"{len(bad)} of {len(gaps)} gaps were off, the first was {g:.3f} s (gap {i + 1})."
            )
        return gaps

    @keyword
    def get_round_trip_time(
        self,
        statistic: str = "p95",
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: float | None = None,
        connections: Connections = "ALL",
        criterion: str = "",
    ) -> float:
        """Returns a client-measured RTT statistic in milliseconds, optionally asserting.

        ``statistic`` is ``min``, ``mean``, ``p50``, ``p95``, ``p99``, ``max`` or
        ``jitter``, over every heartbeat RTT of ``connections``. Also logs the full
        latency table. Fails if no RTT was measured (start the client heartbeat first).

        | Get Round Trip Time    p95    <    100
        """
        conns = self._many(connections)
        samples = [r for c in conns for r in c.rtts_ms]
        if not samples:
            raise AssertionError(
                "Expected round-trip times; none were measured. Use Start Client Heartbeat first."
            )
        stats = LatencyStats.of(samples)
        logger.info(latency_table(stats, f"Client-measured RTT over {len(conns)} connection(s)"), html=True)
        value = stats.get(statistic)
        return check(value, assertion_operator, assertion_expected, f"RTT {statistic}", "ms", criterion)

    @keyword
    def get_latency_statistics(self, connections: Connections = "ALL") -> dict[str, float]:
        """Returns RTT statistics (count, min, mean, p50, p95, p99, max, jitter) in ms."""
        stats = LatencyStats.of([r for c in self._many(connections) for r in c.rtts_ms])
        return {k: getattr(stats, k) for k in ("count", "min", "mean", "p50", "p95", "p99", "max", "jitter")}

    @keyword
    def log_heartbeat_report(
        self,
        connections: Connections = "ALL",
        timeline_limit: int = 8,
        bound: timedelta | None = None,
        rtt_threshold_ms: float | None = None,
    ) -> None:
        """Logs the health report: a summary row per connection, an SVG state timeline,
        RTT statistics with a histogram, and the event table of up to ``timeline_limit``
        connections (silent ones first).

        ``bound`` draws the termination bound on the timeline; ``rtt_threshold_ms`` the RTT
        threshold on the histogram.
        """
        conns = self._many(connections)
        if not conns:
            logger.info("No connections to report.")
            return
        logger.info(connection_summary(conns), html=True)
        logger.info(timeline_svg(conns, bound.total_seconds() if bound else None), html=True)
        samples = [r for c in conns for r in c.rtts_ms]
        if samples:
            logger.info(latency_table(LatencyStats.of(samples), "Client-measured RTT"), html=True)
            logger.info(rtt_histogram_svg(samples, rtt_threshold_ms), html=True)
        ordered = sorted(conns, key=lambda c: (c.silent_since is None and c.terminated_at is None, c.name))
        for c in ordered[: int(timeline_limit)]:
            logger.info(timeline_table(c), html=True)

    @keyword
    def get_open_connection_names(self) -> list[str]:
        """Returns the names of connections the server has not terminated."""
        return [n for n, c in self._connections.items()
                if c.terminated_at is None and c.state is not ConnState.CLOSED]
