"""Server resources keywords: what the server holds, read from outside, and whether it lets go.

The one probe configuration of the library lives here: `Configure Server Probes` stores a
:class:`~wsresilience.core.probes.series.ResourceProbe` in the shared context (``ctx.probe``),
and every component that reads the server (the flapping sampler, the agent checks, these
keywords) reads through it. The reading, polling and the leak rule are in
:mod:`wsresilience.core.probes`; this module turns what they return into figures, judges them
and words the failures.

Three outcomes, never confused:

- PASS/FAIL on what the server holds (counts exact, memory within a tolerance);
- SKIP with the reason when the target offers no way to read a resource
  (:class:`~wsresilience.errors.ProbeUnavailable`);
- FAIL when a source that answered earlier stops answering: the server died
  (:class:`~wsresilience.errors.ProbeLost`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

from assertionengine import AssertionOperator
from robot.api import SkipExecution, logger
from robot.api.deco import keyword

from wsresilience.components.base import LibraryComponent
from wsresilience.core.evidence.figures import Figure
from wsresilience.core.evidence.flapping import comparison_table, growth_chart, growth_figures, growth_table
from wsresilience.core.evidence.judge import check
from wsresilience.core.masking import SecretOrStr, reveal
from wsresilience.core.probes.leaks import judge_count, judge_memory, parse_bytes
from wsresilience.core.probes.series import (
    UNITS,
    ResourceProbe,
    Snapshot,
    counts_of,
    resource_names,
    scale_of,
    wait_for_snapshot,
    wait_until_settled,
)
from wsresilience.core.probes.sources import server_version
from wsresilience.errors import ProbeUnavailable

#: Resources whose counts must come back exactly once clients are gone.
DEFAULT_COUNTS = "connections, authenticated_sessions, fds, tasks"

#: The SKIP reason when no probe is configured at all.
NO_PROBE = "The target exposes no metrics endpoint (METRICS_URL) and no process id (SERVER_PID)"

CONCERN = "ServerResources"


class ServerResourcesKeywords(LibraryComponent):
    """Probe configuration, connection counts, resource snapshots and the leak rule."""

    # -- reading, with SKIP for what the target does not offer ------------------------------

    @property
    def probe(self) -> ResourceProbe:
        """The probe every component reads the server through (``ctx.probe``)."""
        return self.ctx.probe

    @contextmanager
    def _readable(self, what: str = "Cannot read the server's resources") -> Iterator[None]:
        """Turn "no source answers" into a SKIP with the reason (a lost source still fails)."""
        try:
            yield
        except ProbeUnavailable as exc:
            raise SkipExecution(f"{what}: {exc}.") from None

    def _require_probe(self, what: str) -> None:
        """SKIP, saying ``what`` cannot be done, when no probe is configured at all."""
        if not self.probe.configured:
            raise SkipExecution(f"{NO_PROBE}: {what}.")

    def _uncounted(self) -> str:
        """Why the configured probe cannot count connections."""
        return (f"Cannot count the server's connections: {self.probe.describe()} has no metric "
                f"{self.probe.metrics['connections']!r}, and psutil needs the server's port.")

    def _wait_for(self, condition: Callable[[Snapshot], bool], timeout: float,
                  what: str = "Cannot read the server's resources") -> tuple[Snapshot, float]:
        """Poll until ``condition`` holds or ``timeout`` passes: the last snapshot, and the
        seconds waited (SKIP, saying ``what`` cannot be done, when no source answers)."""
        started = time.monotonic()
        with self._readable(what):
            snap, _ = wait_for_snapshot(self.probe, condition, timeout)
        return snap, time.monotonic() - started

    def _snapshot(self, label: str = "") -> Snapshot:
        self._require_probe("its resources cannot be read")
        with self._readable():
            return self.probe.snapshot(label)

    # -- configuration ------------------------------------------------------------------------

    @keyword(tags=["Setter", CONCERN])
    def configure_server_probes(
        self,
        metrics_url: SecretOrStr = "",
        pid: str = "",
        target_url: SecretOrStr = "",
        connections_metric: str = "ws_open_connections",
    ) -> None:
        """Tells the library where to read the server's resources: metrics and/or a process.

        ``metrics_url`` is a Prometheus text endpoint; ``pid`` a local server process,
        sampled with psutil; ``target_url`` the WebSocket URL, whose port restricts
        psutil's connection count to that server socket; ``connections_metric`` the metric
        counting open WebSocket connections. Metrics win where both sources have a
        resource. Every keyword that reads the server uses this one configuration,
        including the sampler of `Flap Clients`.

        Either URL may be a secret URL (`Get Target Url`).

        | Configure Server Probes    ${METRICS_URL}    ${SERVER_PID}    ${TARGET_URL}
        """
        metrics_url, target_url = reveal(metrics_url), reveal(target_url)
        self.ctx.probe = ResourceProbe.for_target(metrics_url, pid, target_url, connections_metric)
        self.ctx.probe.ssl_context = self.ctx.target.ssl_context(metrics_url.strip())
        logger.info(f"Server probes: {self.probe.describe()}.")

    # -- connections -------------------------------------------------------------------------

    def _open_connections(self) -> tuple[int, str]:
        """The server's open connections and where the figure came from (or SKIP, saying why)."""
        self._require_probe("the server's open connections cannot be counted")
        with self._readable("Cannot count the server's connections"):
            snapshot = self.probe.snapshot()
        count = snapshot.get("connections")
        if count is None:
            raise SkipExecution(self._uncounted())
        return int(count), snapshot.sources["connections"]

    @keyword(tags=["Getter", CONCERN])
    def get_server_version(
        self,
        target_url: SecretOrStr,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: str | None = None,
        message: str | None = None,
    ) -> str:
        """Returns what ``GET /version`` on the target's host answers, or ``not reported``.

        The reference server answers its version there; other services usually do not,
        which is fine: the version is run metadata, not a check. Can assert like any getter.

        | ${version} =    Get Server Version    ${TARGET_URL}
        | Get Server Version    ${TARGET_URL}    !=    not reported
        """
        target_url = reveal(target_url)
        version = server_version(target_url, ssl_context=self.ctx.target.ssl_context(target_url))
        return check(version, assertion_operator, assertion_expected,
                     "server version", message=message)

    @keyword(tags=["Getter", CONCERN])
    def get_open_connection_count(
        self,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: int | None = None,
        message: str | None = None,
    ) -> int:
        """Returns how many connections the server holds open, optionally asserting.

        SKIPs the test, with the reason, when no probe is configured.

        | ${baseline} =    Get Open Connection Count
        | Get Open Connection Count    ==    ${baseline}
        """
        count, _ = self._open_connections()
        return check(count, assertion_operator, assertion_expected, "server open connections",
                     "connections", "", message)

    @keyword(tags=["Assertion", CONCERN])
    def open_connection_count_should_return_to(
        self,
        baseline: int,
        timeout: timedelta = timedelta(seconds=12),
        criterion: str = "",
    ) -> float:
        """Waits until the server holds exactly ``baseline`` connections; returns the wait.

        Re-reads the count every 50 ms. Fails after ``timeout`` saying what it saw, logs
        the figure either way; SKIPs when no probe is configured.
        """
        self._require_probe("the server's open connections cannot be counted")
        limit = timeout.total_seconds()
        snap, elapsed = self._wait_for(lambda s: s.get("connections") in (None, baseline), limit,
                                       "Cannot count the server's connections")
        held = snap.get("connections")
        if held is None:
            raise SkipExecution(self._uncounted())
        count, source = int(held), snap.sources["connections"]
        figure = Figure("server open connections after settling", count, "connections",
                        baseline, "==", criterion, note=f"{source}, after {elapsed:.2f} s")
        self.judge([figure], "Server connections back to baseline",
                   f"Expected the server to hold {baseline} open connections (baseline) within "
                   f"{limit:.2f} s; it still holds {count} ({source}).")
        return elapsed

    # -- snapshots ----------------------------------------------------------------------------

    @keyword(tags=[CONCERN])
    def take_resource_snapshot(self, label: str = "") -> Snapshot:
        """Returns what the server holds now (every resource the target exposes).

        SKIPs when no probe is configured or none answers.

        | ${before} =    Take Resource Snapshot    before flapping
        """
        snap = self._snapshot(label)
        logger.info(f"Resource snapshot: {snap}.")
        return snap

    @keyword(tags=[CONCERN])
    def take_settled_resource_snapshot(
        self,
        label: str = "",
        baseline: Snapshot | None = None,
        quiet: timedelta = timedelta(milliseconds=300),
        timeout: timedelta = timedelta(seconds=5),
    ) -> Snapshot:
        """Waits until the server has settled, then returns a snapshot.

        Settled: every count it exposes (connections, descriptors, tasks …) equals
        ``baseline``'s, or none has changed for ``quiet``. Never fails on a count that
        stays off (that is for the checks to judge); gives up waiting after ``timeout``
        and takes the snapshot anyway.

        | ${after} =    Take Settled Resource Snapshot    after round 1    baseline=${before}
        """
        first = self._snapshot(label)
        want = counts_of(baseline) if baseline is not None else None
        with self._readable():
            snap, _ = wait_until_settled(self.probe, want, quiet.total_seconds(), timeout.total_seconds(),
                                         first)
        snap = snap.labelled(label)
        logger.info(f"Settled resource snapshot: {snap}.")
        return snap

    @keyword(tags=[CONCERN])
    def compare_resource_snapshots(self, before: Snapshot, after: Snapshot) -> dict[str, float]:
        """Logs a table of both snapshots side by side and returns ``after - before`` per resource.

        | Compare Resource Snapshots    ${snapshots}[0]    ${snapshots}[-1]
        """
        logger.info(comparison_table(before, after), html=True)
        return after.deltas_since(before)

    # -- back to baseline ----------------------------------------------------------------------

    @keyword(tags=["Assertion", CONCERN])
    def server_resources_should_return_to(
        self,
        baseline: Snapshot,
        resources: str = DEFAULT_COUNTS,
        timeout: timedelta = timedelta(seconds=12),
        criterion: str = "",
    ) -> float:
        """Waits until every listed count the target exposes is exactly back at ``baseline``.

        ``resources`` is a comma-separated list of resource names. Those the target does not
        expose are left out and named in the log; if none is exposed, SKIP. Fails after
        ``timeout`` naming each resource still off. Returns the seconds it took.

        | Server Resources Should Return To    ${baseline}    timeout=5 s    criterion=AC-006.6
        """
        names = resource_names(resources)
        exposed = [n for n in names if baseline.get(n) is not None]
        missing = [n for n in names if n not in exposed]
        if not exposed:
            raise SkipExecution(f"The target exposes none of {', '.join(names)} via {self.probe.describe()}.")
        if missing:
            logger.info(f"Not exposed by the target, so not compared: {', '.join(missing)}.")
        snap, took = self._wait_for(lambda s: all(s.get(n) == baseline.get(n) for n in exposed),
                                    timeout.total_seconds())

        def held(name: str) -> float:
            value = snap.get(name)
            return float("nan") if value is None else value  # gone is never "back"

        figures = [Figure(f"server {n} after settling", held(n), UNITS[n], baseline.get(n) or 0.0,
                          "==", criterion, note=snap.sources.get(n, "")) for n in exposed]

        def still_off() -> str:
            off = ", ".join(f"{n} {held(n):g} (baseline {baseline.get(n):g})"
                            for n in exposed if snap.get(n) != baseline.get(n))
            return (f"Expected the server's {', '.join(exposed)} back at baseline within "
                    f"{timeout.total_seconds():.2f} s; still off: {off} ({self.probe.describe()}).")

        self.judge(figures, f"Resources back to baseline (waited {took:.2f} s)", still_off)
        return took

    @keyword(tags=["Assertion", CONCERN])
    def server_resource_should_settle_at(
        self,
        resource: str,
        expected: float,
        timeout: timedelta = timedelta(seconds=5),
        criterion: str = "",
        what: str = "",
    ) -> float:
        """Waits until ``resource`` reads exactly ``expected``; SKIPs when it is not exposed.

        ``what`` words the failure (e.g. ``before flapping``). Returns the seconds waited.

        | Server Resource Should Settle At    agents    0    timeout=3 s
        """
        name = resource_names(resource)[0]
        snap, took = self._wait_for(lambda s: s.get(name) in (None, float(expected)), timeout.total_seconds())
        held = snap.get(name)
        if held is None:
            raise SkipExecution(f"The target exposes no {name} count via {self.probe.describe()}.")
        when = f" {what}" if what else ""
        figure = Figure(f"server {name}{when}", held, UNITS[name], float(expected), "==", criterion,
                        note=f"after {took:.2f} s; {snap.sources.get(name)}")
        self.judge([figure], f"{name} settles at {expected:g}",
                   f"Expected the server's {name} to settle at {expected:g}{when} within "
                   f"{timeout.total_seconds():.2f} s; it holds {held:g} ({self.probe.describe()}).")
        return took

    # -- the leak rule ----------------------------------------------------------------------------

    @keyword(tags=["Assertion", CONCERN])
    def resource_growth_should_show_no_leak(
        self,
        snapshots: Sequence[Snapshot],
        connections: int | Sequence[int],
        warmup_rounds: int = 1,
        rss_per_connection_max: str = "12 KiB",
        counts: str = "fds, tasks",
        criterion: str = "",
    ) -> None:
        """Judges snapshots taken before and after each flapping round by the leak rule.

        A leak is growth that keeps going, per connection served. ``snapshots``: one before
        any load, then one per round (settled); ``connections``: how many connections each
        round made (one number, or a list with one per round). After ``warmup_rounds``:

        - RSS is fitted with two straight segments over connections served, all judged
          rounds and their late half; the lower slope (what a leak keeps to the end) may
          not exceed ``rss_per_connection_max``. A plateau passes (a V8 heap that levels
          off, an allocator that keeps what it once needed): its late slope falls, or its
          overall slope is low. Needs at least 5 judged rounds, so the late half reaches
          past a warm-up's bend.
        - Each of ``counts`` is exact: it may neither end higher than after warm-up nor climb.

        Logs the figures beside their bounds, a table with the rates per half and the model,
        and a chart against connections served. SKIPs when the target exposes no RSS.

        | Resource Growth Should Show No Leak    ${snapshots}    ${connections}    rss_per_connection_max=12 KiB
        """
        snaps = list(snapshots)
        if not snaps or snaps[0].get("rss_bytes") is None:
            raise SkipExecution(f"The target exposes no resident memory (RSS) via {self.probe.describe()}.")
        warmup = int(warmup_rounds)
        per_round = int(connections) if isinstance(connections, int | str) else [int(c) for c in connections]
        verdicts = [judge_memory("rss_bytes", [s.get("rss_bytes") or 0.0 for s in snaps], per_round, warmup,
                                 parse_bytes(rss_per_connection_max))]
        skipped = []
        for name in resource_names(counts):
            values = [s.get(name) for s in snaps]
            if any(v is None for v in values):
                skipped.append(name)
                continue
            verdicts.append(judge_count(name, [float(v or 0.0) for v in values], per_round, warmup))
        if skipped:
            logger.info(f"Not exposed by the target, so not judged: {', '.join(skipped)}.")

        def climbing() -> str:
            lines = "; ".join(v.describe(*scale_of(v.resource)) for v in verdicts if v.leak)
            return f"Expected no growth that keeps going after warm-up; {lines}."

        try:
            self.judge(growth_figures(verdicts, criterion), "Leak rule", climbing)
        finally:
            logger.info(growth_table(verdicts), html=True)
            logger.info(growth_chart(verdicts), html=True)
