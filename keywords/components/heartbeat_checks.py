"""The verdicts of the heartbeat keywords: pings answered, spaced right, zombies terminated in time.

:class:`HeartbeatChecks` finds connections by name in the context's ``connections``
registry and holds every keyword that judges what an
:class:`~wsresilience.core.client.connection.ObservedConnection` recorded: the server's pings
and the client's pongs, the spacing of the pings, the round-trip times of the client's own
heartbeat, when and how the server terminated a connection that went silent, and the health
report. The waits that come before a verdict are loop-side functions of
:mod:`wsresilience.core.client.observe` that return data; the figures are judged through
:meth:`~wsresilience.components.base.LibraryComponent.judge` (or ``check`` for getters), so each
is logged beside its threshold whether the check passes or not, and a failure is one line.

:class:`~wsresilience.components.heartbeat.HeartbeatKeywords` builds on it with the keywords
that open connections and switch their behaviour; the two are one component, split in two
modules to keep each readable.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from assertionengine import AssertionOperator
from robot.api import logger
from robot.api.deco import keyword

from wsresilience.components.base import LibraryComponent
from wsresilience.components.heartbeat_keepalive import with_keepalive_note
from wsresilience.core.client.connection import ConnState, ObservedConnection
from wsresilience.core.client.observe import (
    settle_zombies,
    wait_for_first_termination,
    wait_for_termination,
)
from wsresilience.core.client.observe import rtt_samples as rtt_samples_on_loop
from wsresilience.core.evidence.connections import (
    connection_summary,
    latency_table,
    rtt_histogram_svg,
    timeline_svg,
    timeline_table,
)
from wsresilience.core.evidence.figures import Figure
from wsresilience.core.evidence.judge import check
from wsresilience.core.runtime.timeouts import percent, seconds
from wsresilience.core.stats import LatencyStats
from wsresilience.errors import ResilienceFailure

#: One connection name, a list of names, or ``ALL``.
Connections = str | list[str] | tuple[str, ...]

TAG = "Heartbeat"


class HeartbeatChecks(LibraryComponent):
    """Judges heartbeat connections: measurements, termination bounds, getters, the report."""

    # -- finding connections ---------------------------------------------------------------

    def _connection(self, name: str) -> ObservedConnection:
        return self.ctx.connections.get(name)

    def _connections(self, names: Connections | None) -> list[ObservedConnection]:
        """One name, a list of names, or ``ALL``/``None`` for every open connection."""
        return self.ctx.connections.many(names)

    def _rtt_samples(self, conns: list[ObservedConnection]) -> list[list[float]]:
        """Each connection's client-heartbeat RTTs (ms), snapshotted on the loop."""
        return self.call(rtt_samples_on_loop, conns)

    # -- staying open and being terminated ----------------------------------------------------

    @keyword(tags=["Assertion", TAG])
    def connections_should_stay_open_for(
        self, connections: Connections, duration: timedelta, criterion: str = ""
    ) -> None:
        """Observes ``connections`` for ``duration`` and fails at the first termination.

        This is a measurement window, not a pause: it returns early with a failure as
        soon as the server terminates one of them.
        """
        conns = self._connections(connections)
        window = duration.total_seconds()
        dead = self.run(wait_for_first_termination(conns, window),
                        f"{len(conns)} connection(s) to stay open", window + 5)
        figure = Figure("connections terminated while observed", len(dead), "", 0, "==", criterion,
                        note=f"{len(conns)} observed for {window:.2f} s")
        self.judge([figure], "False positives", lambda: (
            f"Expected {len(conns)} connection(s) to stay open for {window:.2f} s; {dead[0].ended_by} "
            f"terminated {', '.join(d.name for d in dead)} ({dead[0].name}: {dead[0].termination})."
        ))

    @keyword(tags=["Assertion", TAG])
    def connection_should_be_terminated_within(
        self, connection: str, bound: timedelta, criterion: str = ""
    ) -> float:
        """Fails unless the server terminates ``connection`` within ``bound`` of its silence.

        The clock starts when the connection went silent (`Set Connection Behaviour`).
        Logs the termination time beside the bound, with the close code and reason seen.
        Returns the termination time in seconds.
        """
        conn = self._connection(connection)
        if conn.silent_since is None and conn.terminated_at is None:
            raise ValueError(
                f"{connection} is responsive; make it silent first with Set Connection Behaviour."
            )
        limit = bound.total_seconds()
        self.run(wait_for_termination(conn, limit), f"the server to terminate {connection}", limit + 5,
                 conn.url)
        return self._judge_termination(conn, limit, criterion)

    def _judge_termination(self, conn: ObservedConnection, limit: float, criterion: str) -> float:
        silent_since = conn.silent_since
        if conn.ended_by_client:
            raise ResilienceFailure(
                f"Expected the server to terminate {conn.name} within {limit:.3f} s of going silent; "
                f"the client ended it itself first ({conn.termination})."
            )
        if silent_since is None:
            raise ResilienceFailure(
                f"Expected the server to terminate {conn.name} within {limit:.3f} s of going "
                f"silent; it terminated it while it was still responsive ({conn.termination})."
            )
        behaviour = conn.behaviour.value
        expected = f"Expected the server to terminate {conn.name} ({behaviour}) within {limit:.3f} s of going silent"
        code = f"close {conn.close_code} {conn.close_reason}".strip() if conn.close_code else "no close frame"
        return self._judge_elapsed(
            f"{conn.name} ({behaviour}) termination", silent_since, conn.terminated_at, limit, criterion,
            "Zombie termination",
            seen=(f"{conn.termination}; {code}", lambda took: f"{expected}; it took {took:.3f} s ({conn.termination})."),
            unseen=("not terminated", lambda waited: f"{expected}; it was still open after {waited:.3f} s "
                                                     f"({conn.target})."),
        )

    def _judge_elapsed(self, label: str, since: float, at: float | None, limit: float, criterion: str,
                       title: str, seen: tuple[str, Callable[[float], str]],
                       unseen: tuple[str, Callable[[float], str]]) -> float:
        """Judge the seconds from ``since`` to ``at`` (monotonic times) beside ``limit``; return them.

        An event that never came (``at`` None) is NaN, a miss. ``seen`` and ``unseen`` are
        the figure's note and the failure's wording, given the seconds it took or the
        seconds waited in vain, for an event that came and for one that did not.
        """
        if at is None:
            took, (note, failure) = math.nan, unseen
            message = failure(time.monotonic() - since)
        else:
            took, (note, failure) = at - since, seen
            message = failure(took)
        figure = Figure(label, took, "s", limit, "<=", criterion, note=note)
        self.judge([figure], title, with_keepalive_note(self.ctx, message))
        return took

    @keyword(tags=["Assertion", TAG])
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
        zombies, alive = self._connections(silent), self._connections(healthy)
        limit = bound.total_seconds()
        if not zombies:
            raise ValueError("Expected at least one connection in 'silent'.")
        if any(c.silent_since is None for c in zombies):
            raise ValueError("Every connection in 'silent' must have been made silent first.")
        self.run(settle_zombies(zombies, alive, limit), "silent connections to be terminated", 2 * limit + 10)
        # A zombie the client closed itself (its own message size limit) was not terminated.
        late = [c for c in zombies if c.terminated_at is None or c.ended_by_client or
                c.terminated_at - (c.silent_since or 0) > limit]
        false_pos = [c for c in alive if c.terminated_at is not None]
        worst = max((c.terminated_at - c.silent_since for c in zombies if c.terminated_at is not None
                     and c.silent_since is not None and not c.ended_by_client), default=math.nan)
        figures = [
            Figure("silent connections not terminated in time (false negatives)", len(late), "",
                   0, "==", criterion),
            Figure("healthy connections terminated (false positives)", len(false_pos), "", 0, "==",
                   criterion),
            Figure("slowest zombie termination", worst, "s", limit, "<=", criterion,
                   note=f"{len(zombies)} silent, {len(alive)} healthy"),
        ]

        def failure() -> str:
            problems = []
            if late:
                problems.append(f"{len(late)} silent not terminated within {limit:.3f} s "
                                f"({', '.join(c.name for c in late[:5])}{'…' if len(late) > 5 else ''})")
            if false_pos:
                problems.append(f"{len(false_pos)} healthy terminated "
                                f"({', '.join(f'{c.name}: {c.termination}' for c in false_pos[:3])})")
            return with_keepalive_note(self.ctx, f"Expected exactly the {len(zombies)} silent of "
                                       f"{len(zombies) + len(alive)} connections to be terminated; "
                                       + "; ".join(problems) + ".")

        self.judge(figures, "Zombie detection under load", failure)

    # -- measurements -------------------------------------------------------------------------

    @keyword(tags=["Assertion", TAG])
    def every_server_ping_should_be_answered(self, connections: Connections = "ALL") -> int:
        """Fails unless each connection answered every server ping it received.

        Returns the total number of pings answered.
        """
        total = 0
        for c in self._connections(connections):
            pings = c.events.count("ping received")
            pongs = c.events.count("pong sent")
            if pings == 0:
                raise ResilienceFailure(f"Expected server pings on {c.name}; it received none ({c.target}).")
            if pongs < pings:
                raise ResilienceFailure(
                    f"Expected {c.name} to answer all {pings} server pings; it sent {pongs} pongs "
                    f"({c.events.count('pong suppressed')} suppressed)."
                )
            total += pongs
        return total

    @keyword(tags=["Assertion", TAG])
    def ping_spacing_should_be(
        self,
        connection: str,
        expected: timedelta,
        tolerance: str = "10%",
        criterion: str = "",
    ) -> list[float]:
        """Fails unless every gap between consecutive server pings is ``expected`` ± tolerance.

        ``tolerance`` is a percentage of ``expected`` (``10%``) or a time (``50 ms``).
        Logs min, mean and max spacing as figures; returns the gaps in seconds. Every gap is
        within the tolerance exactly when the min and max are, so the figures are the verdict.
        The figures cover every ping the connection received; the gaps returned (and the one
        a failure names) are those between the pings still kept as events (the latest ones:
        a long-held connection keeps a bounded number, see ``core/runtime/events.py``).
        """
        conn = self._connection(connection)
        times = [e.t for e in conn.events.of_kind("ping received")]
        gaps = [b - a for a, b in zip(times, times[1:])]
        spacing = conn.events.stats("ping received")
        want = expected.total_seconds()
        tol = want * percent(tolerance) if tolerance.strip().endswith("%") else seconds(tolerance)
        if spacing is None or spacing.gaps == 0:
            raise ResilienceFailure(
                f"Expected at least two server pings on {connection} to measure spacing; got "
                f"{spacing.count if spacing else 0} ({conn.target})."
            )
        figures = [
            Figure(f"{label} ping spacing", value, "s", want, "within", criterion, tolerance=tol,
                   note=f"{spacing.gaps} gaps")
            for label, value in (("min", spacing.gap_min), ("mean", spacing.gap_mean),
                                 ("max", spacing.gap_max))
        ]

        def failure() -> str:
            bad = [(i, g) for i, g in enumerate(gaps) if abs(g - want) > tol]
            offset = spacing.gaps - len(gaps)  # gaps before the kept pings
            if not bad:  # the gap off the bound was among the earlier ones, no longer kept
                return with_keepalive_note(
                    self.ctx, f"Expected server pings every {want:.3f} s ± {tol:.3f} s on {connection}; "
                    f"the {spacing.gaps} gaps ranged from {spacing.gap_min:.3f} to "
                    f"{spacing.gap_max:.3f} s (the one off was before the last {len(gaps)}).")
            i, g = bad[0]
            seen = f"{len(bad)} of {len(gaps)}" if offset == 0 else \
                f"{len(bad)} of the last {len(gaps)} (of {spacing.gaps})"
            return with_keepalive_note(self.ctx, f"Expected server pings every {want:.3f} s ± {tol:.3f} s on "
                                       f"{connection}; {seen} gaps were off, the first was "
                                       f"{g:.3f} s (gap {offset + i + 1}).")

        self.judge(figures, f"Server ping spacing on {connection}", failure)
        return gaps

    # -- getters --------------------------------------------------------------------------------

    @keyword(tags=["Getter", TAG])
    def get_round_trip_time(
        self,
        statistic: str = "p95",
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: float | None = None,
        connections: Connections = "ALL",
        criterion: str = "",
        message: str | None = None,
    ) -> float:
        """Returns a client-measured RTT statistic in milliseconds, optionally asserting.

        ``statistic`` is ``min``, ``mean``, ``p50``, ``p95``, ``p99``, ``max`` or
        ``jitter``, over every heartbeat RTT of ``connections``. Also logs the full
        latency table. Fails if no RTT was measured (start the client heartbeat first).
        ``message`` replaces the failure message of the assertion.

        | Get Round Trip Time    p95    <    100
        """
        conns = self._connections(connections)
        samples = [r for rtts in self._rtt_samples(conns) for r in rtts]
        if not samples:
            raise ResilienceFailure(
                "Expected round-trip times; none were measured. Use Start Client Heartbeat first."
            )
        stats = LatencyStats.of(samples)
        logger.info(latency_table(stats, f"Client-measured RTT over {len(conns)} connection(s)"), html=True)
        return check(stats.get(statistic), assertion_operator, assertion_expected, f"RTT {statistic}", "ms",
                     criterion, message)

    @keyword(tags=["Getter", TAG])
    def get_latency_statistics(
        self,
        connections: Connections = "ALL",
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: Any = None,
        message: str | None = None,
    ) -> dict[str, float]:
        """Returns RTT statistics (count, min, mean, p50, p95, p99, max, jitter) in ms.

        With ``assertion_operator`` the dictionary is asserted as a whole, e.g.
        ``Get Latency Statistics    ALL    contains    p95``.
        """
        rtts = [r for samples in self._rtt_samples(self._connections(connections)) for r in samples]
        stats = LatencyStats.of(rtts)
        values = {k: getattr(stats, k) for k in ("count", "min", "mean", "p50", "p95", "p99", "max", "jitter")}
        return check(values, assertion_operator, assertion_expected, "RTT statistics", message=message)

    @keyword(tags=["Getter", TAG])
    def get_termination_time(
        self,
        connection: str,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: float | None = None,
        message: str | None = None,
    ) -> float | None:
        """Returns seconds from going silent to being terminated (``None`` if not terminated)."""
        conn = self._connection(connection)
        took = None
        if conn.terminated_at is not None and conn.silent_since is not None:
            took = conn.terminated_at - conn.silent_since
        return check(took, assertion_operator, assertion_expected, f"{connection} termination time", "s",
                     message=message)

    @keyword(tags=["Getter", TAG])
    def get_close_code(
        self,
        connection: str,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: int | None = None,
        message: str | None = None,
    ) -> int | None:
        """Returns the close code the server sent (``None`` if none was seen)."""
        return check(self._connection(connection).close_code, assertion_operator, assertion_expected,
                     f"{connection} close code", message=message)

    @keyword(tags=["Getter", TAG])
    def get_connection_state(
        self,
        connection: str,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: str | None = None,
        message: str | None = None,
    ) -> str:
        """Returns ``CONNECTING``, ``OPEN``, ``SILENT``, ``TERMINATED`` or ``CLOSED``."""
        return check(self._connection(connection).state.value, assertion_operator, assertion_expected,
                     f"{connection} state", message=message)

    @keyword(tags=["Getter", TAG])
    def get_open_connection_names(
        self,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: Any = None,
        message: str | None = None,
    ) -> list[str]:
        """Returns the names of connections the server has not terminated (nor we closed).

        | ${names} =    Get Open Connection Names
        | Get Open Connection Names    contains    responsive
        """
        names = [name for name, c in self.ctx.connections.items()
                 if c.terminated_at is None and c.state is not ConnState.CLOSED]
        return check(names, assertion_operator, assertion_expected, "open connections", message=message)

    # -- the report -----------------------------------------------------------------------------

    @keyword(tags=[TAG])
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
        conns = self._connections(connections)
        if not conns:
            logger.info("No connections to report.")
            return
        rtts = self._rtt_samples(conns)
        logger.info(connection_summary(conns, rtts), html=True)
        logger.info(timeline_svg(conns, bound.total_seconds() if bound else None), html=True)
        samples = [r for per_connection in rtts for r in per_connection]
        if samples:
            logger.info(latency_table(LatencyStats.of(samples), "Client-measured RTT"), html=True)
            logger.info(rtt_histogram_svg(samples, rtt_threshold_ms), html=True)
        ordered = sorted(conns, key=lambda c: (c.silent_since is None and c.terminated_at is None, c.name))
        for c in ordered[: int(timeline_limit)]:
            logger.info(timeline_table(c), html=True)
