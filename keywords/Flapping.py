"""Flapping clients, server resource snapshots and leak detection."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import timedelta
from urllib.parse import urlsplit

from assertionengine import AssertionOperator
from robot.api import SkipExecution, logger
from robot.api.deco import keyword, library
from websockets.exceptions import ConnectionClosed

from keywords import __version__
from keywords.core.evidence.judge import check
from keywords.core.masking import Credential
from keywords.core.evidence.figures import Figure, figure_table, html_table
from keywords.core.flapping.engine import Disconnect, FlapPlan, FlapResult, authenticate, flap, open_client
from keywords.core.evidence.flapping import flap_summary_table, growth_chart, growth_table, scenario_chart
from keywords.core.runtime.library import LoopLibrary
from keywords.errors import ProbeUnavailable
from keywords.core.probes.leaks import judge_growth
from keywords.core.probes.series import MB, UNITS, ResourceProbe, Sampler, Snapshot, wait_for_snapshot
from keywords.core.masking import mask_url
from keywords.core.client.open_errors import describe_open_error
from keywords.core.runtime.timeouts import TimeLike, percent, seconds

#: Resources whose counts must come back exactly once clients are gone.
DEFAULT_COUNTS = "connections, authenticated_sessions, fds, tasks"


def _names(resources: str | Sequence[str]) -> list[str]:
    items = resources.split(",") if isinstance(resources, str) else list(resources)
    names = [r.strip() for r in items if r.strip()]
    unknown = [n for n in names if n not in UNITS]
    if unknown:
        raise ValueError(f"Unknown resource(s) {', '.join(unknown)}; known: {', '.join(UNITS)}.")
    return names


def _bytes(size: str | int | float) -> float:
    """Bytes from ``10 MB``, ``512 KB``, ``1048576`` (MB and KB are binary: 2^20, 2^10)."""
    text = str(size).strip().upper().replace("IB", "B")
    for suffix, factor in (("GB", 1 << 30), ("MB", MB), ("KB", 1 << 10), ("B", 1)):
        if text.endswith(suffix):
            return float(text[: -len(suffix)].strip()) * factor
    return float(text)


@library(scope="SUITE", version=__version__, doc_format="ROBOT")
class Flapping(LoopLibrary):
    """Flaps WebSocket clients and checks that the server lets go of everything.

    A *flapping* client connects, holds the connection for a connected time, disconnects,
    waits a disconnected time, and does it again, like a phone on a bad network. Many
    clients flap at once. A healthy server accepts every reconnect, keeps one agent per
    user, and afterwards holds exactly what it held before.

    = Flapping =

    `Flap Clients` runs C concurrent clients for K cycles each (seed: 100 ms connected,
    50 ms disconnected), with optional jitter from a seeded random generator, a
    ``graceful`` close handshake or an ``abort`` (TCP reset: SO_LINGER 0, no close frame),
    plain or authenticated with credentials from `ReferenceServer.Create Test User`. A
    cycle succeeds when the handshake completes, authentication (if any) is accepted, and
    the server keeps the connection for the connected time. The run reports the success
    rate, handshake latency percentiles, the attempt rate (cycles/s) and failures by cause;
    `Get Connection Success Rate`, `Get Handshake Latency` and `Get Attempt Rate` read
    them back and can assert:

    | Flap Clients    ${URL}    clients=10    cycles=50    connected=100 ms    disconnected=50 ms
    | Get Connection Success Rate    >=    99
    | Get Handshake Latency    p95    <    200

    = Server resources =

    `Use Server Probes` says where the server's resources are read: its Prometheus
    endpoint (``ws_open_connections``, ``ws_authenticated_sessions``,
    ``ws_agent_instances``, ``ws_agent_instances_per_user_max``, ``ws_asyncio_tasks``,
    ``process_resident_memory_bytes``, ``process_open_fds``) and/or a local process id
    (psutil: TCP connections on the server's port, RSS, descriptors, threads). Resource
    names in keywords: ``connections``, ``authenticated_sessions``, ``agents``,
    ``agents_per_user_max``, ``tasks``, ``rss_bytes``, ``fds``, ``threads``.

    While clients flap, a background thread samples the resources (``sample_every``), so
    the log shows connections, agents and RSS over time, and `Agent Instances Should Stay
    At One Per User` can hold at every sample. `Take Resource Snapshot`, `Compare Resource
    Snapshots` and `Server Resources Should Return To` compare before and after.

    = The leak rule =

    A leak is a slope, not a step. `Resource Growth Should Show No Leak` takes one
    snapshot before any load and one after each flapping round. The first
    ``warmup_rounds`` may add a one-time step (allocator arenas, caches); after them, the
    least-squares slope per round and the net growth must stay within tolerance. Counts
    (descriptors, tasks) are exact: tolerance 0. RSS gets ``rss_growth_max`` (default
    10 MB) and a slope bound (default: that growth spread over the judged rounds).

    = Skips =

    A check that needs something the target does not expose (no probe, no agent metric)
    ends SKIP with the reason, never PASS.

    = Timeouts =

    Every wait has a timeout (library default 10 s, per keyword ``timeout``); on expiry
    the keyword fails in one line naming what it waited for, where, and for how long.
    """

    def __init__(self, timeout: TimeLike = timedelta(seconds=10)) -> None:
        """``timeout`` is the default for every wait."""
        super().__init__(timeout)
        self._probe = ResourceProbe()
        self._last: FlapResult | None = None
        self._samples: list[Snapshot] = []
        self._users = 0

    # -- configuration ---------------------------------------------------------------------

    @keyword
    def set_flapping_timeout(self, timeout: timedelta) -> str:
        """Sets the library's default wait timeout and returns the previous one."""
        return self._set_timeout(timeout)

    @keyword
    def use_server_probes(
        self,
        metrics_url: str = "",
        pid: str = "",
        target_url: str = "",
        connections_metric: str = "ws_open_connections",
    ) -> None:
        """Says where the server's resources are read: metrics endpoint and/or process id.

        ``target_url`` (the WebSocket URL) restricts psutil's connection count to the
        server's port. Metrics win where both sources have a resource.

        | Use Server Probes    ${TARGET_METRICS_URL}    ${TARGET_PID}    ${TARGET_URL}
        """
        port = urlsplit(target_url).port if target_url else None
        self._probe = ResourceProbe(metrics_url.strip(), int(pid) if str(pid).strip() else None,
                                    port, connections_metric)
        logger.info(f"Flapping resource probes: {self._probe.describe()}.")

    # -- flapping --------------------------------------------------------------------------

    @keyword
    def flap_clients(
        self,
        url: str,
        clients: int = 10,
        cycles: int = 50,
        connected: timedelta = timedelta(milliseconds=100),
        disconnected: timedelta = timedelta(milliseconds=50),
        jitter: str = "0%",
        seed: int = 0,
        disconnect: str = "graceful",
        credentials: Sequence[Credential] | None = None,
        sample_every: timedelta = timedelta(milliseconds=100),
        open_timeout: timedelta | None = None,
    ) -> dict[str, object]:
        """Runs ``clients`` concurrent clients through ``cycles`` connect–hold–disconnect cycles.

        ``connected`` is how long each connection is held, ``disconnected`` the pause
        before the next connect; ``jitter`` (e.g. ``20%``) scales both randomly per cycle
        with a generator seeded by ``seed``. ``disconnect`` is ``graceful`` or ``abort``
        (TCP reset). With ``credentials`` (a list from `Create Test User`; client *i*
        uses credential *i* modulo the list) every connection authenticates first.

        When probes are configured (`Use Server Probes`), server resources are sampled
        every ``sample_every`` during the run. Logs the run summary and the resource
        chart; returns a summary (attempts, successes, success rate in %, cycles/s,
        handshake p95 in ms, failures by cause). Fails only when not one cycle succeeds.

        | ${run} =    Flap Clients    ${URL}    clients=10    cycles=50    jitter=20%    seed=7
        | Flap Clients    ${URL}    disconnect=abort    credentials=${users}
        """
        creds = list(credentials or [])
        for c in creds:
            if not isinstance(c, Credential):
                raise TypeError(f"Expected credentials from Create Test User, got {type(c).__name__}.")
        plan = FlapPlan(
            url=url,
            clients=int(clients),
            cycles=int(cycles),
            connected=connected.total_seconds(),
            disconnected=disconnected.total_seconds(),
            jitter=percent(jitter),
            seed=int(seed),
            disconnect=Disconnect.parse(disconnect),
            tokens=[c.token for c in creds],
            open_timeout=seconds(open_timeout, self._timeout),
        )
        self._users = len({c.user for c in creds[: plan.clients]}) if creds else 0
        per_cycle = (plan.connected + plan.disconnected) * (1 + plan.jitter)
        budget = plan.cycles * per_cycle * 3 + plan.open_timeout + plan.close_timeout + 10
        sampler = Sampler(self._probe, sample_every.total_seconds()).start() if self._probe.configured else None
        result = FlapResult(plan, time.monotonic())
        try:
            self._run(flap(plan, result), f"{plan.clients} clients to flap {plan.cycles} times",
                      budget, mask_url(url))
        finally:
            self._samples = sampler.stop() if sampler is not None else []
            self._last = result
        logger.info(flap_summary_table(result), html=True)
        if self._samples:
            limit = None
            if self._users and self._samples[0].get("agents") is not None:
                limit = (self._samples[0].get("agents") or 0) + self._users
            logger.info(scenario_chart(self._samples, limit), html=True)
        elif sampler is not None:
            logger.info(f"No resource samples during flapping: {sampler.last_error}.")
        if result.successes == 0:
            causes = ", ".join(f"{k} ×{v}" for k, v in result.failures_by_cause.items())
            raise AssertionError(
                f"Expected flapping clients to connect to {mask_url(url)}; none of "
                f"{result.attempts} cycles succeeded ({causes})."
            )
        return {
            "attempts": result.attempts,
            "successes": result.successes,
            "success_rate": round(result.success_rate, 3),
            "cycles_per_s": round(result.cycles_per_s, 2),
            "handshake_p95_ms": round(result.handshakes.p95, 2),
            "failures": result.failures_by_cause,
        }

    def _require_run(self) -> FlapResult:
        if self._last is None:
            raise RuntimeError("No flapping run yet; use Flap Clients first.")
        return self._last

    @keyword
    def get_connection_success_rate(
        self,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: float | None = None,
        criterion: str = "",
        message: str | None = None,
    ) -> float:
        """Returns the last run's connection success rate in percent, optionally asserting.

        | Get Connection Success Rate    >=    99    criterion=AC-006.1
        """
        run = self._require_run()
        if assertion_operator is not None and run.failures_by_cause:
            causes = ", ".join(f"{k} ×{v}" for k, v in run.failures_by_cause.items())
            logger.info(f"Failed cycles by cause: {causes}.")
            message = message or (
                f"Expected connection success rate {assertion_operator.value} {assertion_expected} %; "
                f"got {run.success_rate:.2f} % ({run.successes} of {run.attempts}; failures: {causes})."
            )
        return check(run.success_rate, assertion_operator, assertion_expected,
                     "connection success rate", "%", criterion, message)

    @keyword
    def get_handshake_latency(
        self,
        statistic: str = "p95",
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: float | None = None,
        criterion: str = "",
        message: str | None = None,
    ) -> float:
        """Returns a statistic (``min``, ``mean``, ``p50``, ``p95``, ``p99``, ``max``) of the
        last run's opening-handshake latency in ms, optionally asserting.

        | Get Handshake Latency    p95    <    200    criterion=AC-006.1
        """
        stats = self._require_run().handshakes
        if stats.count == 0:
            raise AssertionError("No handshake completed in the last flapping run: no latency to report.")
        return check(stats.get(statistic), assertion_operator, assertion_expected,
                     f"handshake latency {statistic}", "ms", criterion, message)

    @keyword
    def get_attempt_rate(
        self,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: float | None = None,
        criterion: str = "",
        message: str | None = None,
    ) -> float:
        """Returns the last run's attempt rate (cycles per second), optionally asserting.

        Without an operator the figure is still logged, as a reported figure.
        """
        run = self._require_run()
        if assertion_operator is None:
            logger.info(f"Attempt rate: {run.cycles_per_s:.1f} cycles/s ({run.attempts} cycles in "
                        f"{run.duration:.2f} s).")
        return check(run.cycles_per_s, assertion_operator, assertion_expected,
                     "attempt rate", "cycles/s", criterion, message)

    @keyword
    def get_flapping_failures(self) -> dict[str, int]:
        """Returns the last run's failed cycles by cause (empty when none failed)."""
        return self._require_run().failures_by_cause

    # -- agents ----------------------------------------------------------------------------

    @keyword
    def agent_instances_should_stay_at_one_per_user(self, criterion: str = "") -> int:
        """Fails unless every resource sample of the last run held at most one agent per user.

        Judged on the server's ``ws_agent_instances_per_user_max`` at every sample when
        exposed, and on ``ws_agent_instances`` never exceeding the count before the run
        plus the number of distinct users that flapped. SKIPs when the run was not
        authenticated or the target exposes no agent count. Returns the samples judged.
        """
        self._require_run()
        if not self._users:
            raise SkipExecution("The last flapping run was not authenticated: there are no users "
                                "whose agents could be counted.")
        samples = [s for s in self._samples if s.get("agents") is not None]
        if not samples:
            raise SkipExecution(
                f"The target exposes no agent instance count (metric ws_agent_instances) via "
                f"{self._probe.describe()}: agents per user cannot be checked."
            )
        before = samples[0].get("agents") or 0.0
        limit = before + self._users
        most = max(s.get("agents") or 0.0 for s in samples)
        worst = max(samples, key=lambda s: s.get("agents") or 0.0)
        figures = [Figure("agent instances, most at any sample", most, "agents", limit, "<=", criterion,
                          note=f"{before:g} before + {self._users} users; {len(samples)} samples")]
        per_user = [s.get("agents_per_user_max") for s in samples if s.get("agents_per_user_max") is not None]
        if per_user:
            figures.append(Figure("agents of one user, most at any sample", max(per_user), "agents",
                                  1, "<=", criterion, note=f"{len(per_user)} samples"))
        logger.info(figure_table(figures, "At most one agent per user during flapping"), html=True)
        bad = [f for f in figures if not f.passed]
        if bad:
            at = worst.t - samples[0].t
            raise AssertionError(
                f"Expected at most one agent instance per user at every sample; {bad[0].describe()} "
                f"(worst sample at {at:.2f} s: {worst})."
            )
        return len(samples)

    @keyword
    def fresh_connection_should_get_an_answer_within(
        self,
        url: str,
        credential: Credential,
        bound: timedelta = timedelta(seconds=1),
        question: str = "Are you still there?",
        criterion: str = "",
    ) -> float:
        """Opens a new connection, authenticates, asks the agent, and checks the answer in time.

        The answer must be ``{"type": "answer", "text": "You said: <question>"}`` from the
        agent named in ``auth-ok``, within ``bound`` of starting to connect. Returns the
        seconds it took. (Reference protocol: ``auth`` then ``ask``; see docs/protocol.md.)
        """
        if not isinstance(credential, Credential):
            raise TypeError(f"Expected a credential from Create Test User, got {type(credential).__name__}.")
        limit = bound.total_seconds()
        plan = FlapPlan(url=url, open_timeout=max(limit, self._timeout))

        async def converse() -> tuple[float, dict[str, object], str | None]:
            started = time.monotonic()
            ws = await open_client(plan)
            try:
                agent_id, cause = await authenticate(ws, credential.token, plan.open_timeout)
                if cause:
                    raise AssertionError(f"Expected {credential.user} to authenticate; {cause}.")
                await ws.send(json.dumps({"type": "ask", "text": question}))
                while True:
                    reply = json.loads(await ws.recv())
                    if isinstance(reply, dict) and reply.get("type") in ("answer", "error"):
                        return time.monotonic() - started, reply, agent_id
            finally:
                await ws.close()

        try:
            took, reply, agent_id = self._run(converse(), f"an answer from {credential.user}'s agent",
                                              max(limit, self._timeout) + 1, mask_url(url))
        except ConnectionClosed as exc:
            raise AssertionError(f"Expected an answer from the agent; the server closed the connection "
                                 f"({exc}) at {mask_url(url)}.") from None
        except OSError as exc:
            raise AssertionError(describe_open_error(exc, url)) from None
        expected = f"You said: {question}"
        figure = Figure("connect, authenticate, ask and get the answer", took, "s", limit, "<=", criterion,
                        note=f"agent {reply.get('agent_id')}")
        logger.info(figure_table([figure], "Answer right after flapping"), html=True)
        if reply.get("type") != "answer" or reply.get("text") != expected:
            raise AssertionError(f"Expected the answer {expected!r}; got {json.dumps(reply)[:200]}.")
        if agent_id is not None and reply.get("agent_id") != agent_id:
            raise AssertionError(f"Expected the answer from {agent_id} (named in auth-ok); it came from "
                                 f"{reply.get('agent_id')}.")
        if not figure.passed:
            raise AssertionError(f"Expected {figure.describe()}.")
        return took

    # -- snapshots and leaks -----------------------------------------------------------------

    def _snapshot(self, label: str = "") -> Snapshot:
        if not self._probe.configured:
            raise SkipExecution("The target exposes no metrics endpoint (METRICS_URL) and no process id "
                                "(SERVER_PID): its resources cannot be read.")
        try:
            return self._probe.snapshot(label)
        except ProbeUnavailable as exc:
            raise SkipExecution(f"Cannot read the server's resources: {exc}.") from None

    @keyword
    def take_resource_snapshot(self, label: str = "") -> Snapshot:
        """Returns what the server holds now (every resource the target exposes).

        SKIPs when no probe is configured or none answers.

        | ${before} =    Take Resource Snapshot    before flapping
        """
        snap = self._snapshot(label)
        logger.info(f"Resource snapshot: {snap}.")
        return snap

    @keyword
    def take_settled_resource_snapshot(
        self,
        label: str = "",
        baseline: Snapshot | None = None,
        quiet: timedelta = timedelta(milliseconds=300),
        timeout: timedelta = timedelta(seconds=5),
    ) -> Snapshot:
        """Waits until the server has settled, then returns a snapshot.

        Settled: its connection count equals ``baseline``'s, or has not changed for
        ``quiet``. Never fails on a count that stays off (that is for the checks to
        judge); gives up waiting after ``timeout`` and takes the snapshot anyway.
        """
        first = self._snapshot(label)
        want = baseline.get("connections") if baseline is not None else None
        last = {"value": first.get("connections"), "since": time.monotonic()}

        def settled(s: Snapshot) -> bool:
            now = s.get("connections")
            if now is None or (want is not None and now == want):
                return True
            if now != last["value"]:
                last["value"], last["since"] = now, time.monotonic()
            return time.monotonic() - (last["since"] or 0.0) >= quiet.total_seconds()

        try:
            snap, _ = wait_for_snapshot(self._probe, settled, timeout.total_seconds())
        except ProbeUnavailable as exc:
            raise SkipExecution(f"Cannot read the server's resources: {exc}.") from None
        snap = Snapshot(snap.t, snap.values, snap.sources, label)
        logger.info(f"Settled resource snapshot: {snap}.")
        return snap

    @keyword
    def compare_resource_snapshots(self, before: Snapshot, after: Snapshot) -> dict[str, float]:
        """Logs a table of both snapshots side by side and returns ``after - before`` per resource."""
        deltas: dict[str, float] = {}
        rows: list[list[object]] = []
        for name in before.values:
            if name in after.values:
                deltas[name] = after.values[name] - before.values[name]
                scale, unit = (MB, "MB") if name == "rss_bytes" else (1.0, UNITS[name])
                rows.append([name, before.values[name] / scale, after.values[name] / scale,
                             deltas[name] / scale, unit, before.sources.get(name, "")])
        logger.info(html_table(["resource", before.label or "before", after.label or "after", "change",
                                "unit", "source"], rows, "Resource snapshots compared"), html=True)
        return deltas

    @keyword
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
        """
        names = _names(resources)
        exposed = [n for n in names if baseline.get(n) is not None]
        missing = [n for n in names if n not in exposed]
        if not exposed:
            raise SkipExecution(f"The target exposes none of {', '.join(names)} via {self._probe.describe()}.")
        if missing:
            logger.info(f"Not exposed by the target, so not compared: {', '.join(missing)}.")
        started = time.monotonic()

        def back(s: Snapshot) -> bool:
            return all(s.get(n) == baseline.get(n) for n in exposed)

        try:
            snap, ok = wait_for_snapshot(self._probe, back, timeout.total_seconds())
        except ProbeUnavailable as exc:
            raise SkipExecution(f"Cannot read the server's resources: {exc}.") from None
        took = time.monotonic() - started
        figures = [Figure(f"server {n} after settling", snap.get(n) or 0.0, UNITS[n], baseline.get(n) or 0.0,
                          "==", criterion, note=snap.sources.get(n, "")) for n in exposed]
        logger.info(figure_table(figures, f"Resources back to baseline (waited {took:.2f} s)"), html=True)
        if not ok:
            off = ", ".join(f"{n} {snap.get(n):g} (baseline {baseline.get(n):g})"
                            for n in exposed if snap.get(n) != baseline.get(n))
            raise AssertionError(
                f"Expected the server's {', '.join(exposed)} back at baseline within "
                f"{timeout.total_seconds():.2f} s; still off: {off} ({self._probe.describe()})."
            )
        return took

    @keyword
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
        name = _names(resource)[0]
        started = time.monotonic()
        try:
            snap, ok = wait_for_snapshot(self._probe, lambda s: s.get(name) in (None, float(expected)),
                                         timeout.total_seconds())
        except ProbeUnavailable as exc:
            raise SkipExecution(f"Cannot read the server's resources: {exc}.") from None
        if snap.get(name) is None:
            raise SkipExecution(f"The target exposes no {name} count via {self._probe.describe()}.")
        took = time.monotonic() - started
        figure = Figure(f"server {name}{' ' + what if what else ''}", snap.get(name) or 0.0, UNITS[name],
                        float(expected), "==", criterion, note=f"after {took:.2f} s; {snap.sources.get(name)}")
        logger.info(figure_table([figure], f"{name} settles at {expected:g}"), html=True)
        if not ok:
            raise AssertionError(
                f"Expected the server's {name} to settle at {expected:g}{' ' + what if what else ''} within "
                f"{timeout.total_seconds():.2f} s; it holds {snap.get(name):g} ({self._probe.describe()})."
            )
        return took

    @keyword
    def resource_growth_should_show_no_leak(
        self,
        snapshots: Sequence[Snapshot],
        warmup_rounds: int = 1,
        rss_growth_max: str = "10 MB",
        rss_slope_max: str = "",
        counts: str = "fds, tasks",
        criterion: str = "",
    ) -> None:
        """Judges snapshots taken before and after each flapping round by the leak rule.

        ``snapshots``: one before any load, then one per round (settled). After
        ``warmup_rounds``, RSS may not grow more than ``rss_growth_max`` nor climb faster
        than ``rss_slope_max`` per round (default: the growth bound spread over the judged
        rounds); each of ``counts`` must not grow at all. Logs the values per round, the
        figures beside their bounds, and a chart. SKIPs when the target exposes no RSS.

        | Resource Growth Should Show No Leak    ${snapshots}    warmup_rounds=1    rss_growth_max=10 MB
        """
        snaps = list(snapshots)
        if not snaps or snaps[0].get("rss_bytes") is None:
            raise SkipExecution(f"The target exposes no resident memory (RSS) via {self._probe.describe()}.")
        warmup = int(warmup_rounds)
        growth_max = _bytes(rss_growth_max)
        slope_max = _bytes(rss_slope_max) if str(rss_slope_max).strip() else None
        verdicts = [judge_growth("rss_bytes", [s.get("rss_bytes") or 0.0 for s in snaps], warmup,
                                 growth_max, slope_max)]
        skipped = []
        for name in _names(counts):
            values = [s.get(name) for s in snaps]
            if any(v is None for v in values):
                skipped.append(name)
                continue
            verdicts.append(judge_growth(name, [float(v or 0.0) for v in values], warmup, 0.0, 0.0))
        if skipped:
            logger.info(f"Not exposed by the target, so not judged: {', '.join(skipped)}.")
        figures = []
        for v in verdicts:
            scale, unit = (MB, "MB") if v.resource == "rss_bytes" else (1.0, UNITS[v.resource])
            note = f"warm-up step {v.warmup_step / scale:.3g} {unit} not judged"
            figures.append(Figure(f"{v.resource} slope after warm-up", v.slope / scale, f"{unit}/round",
                                  v.slope_tolerance / scale, "<=", criterion, note=note))
            figures.append(Figure(f"{v.resource} growth after warm-up", v.growth / scale, unit,
                                  v.growth_tolerance / scale, "<=", criterion,
                                  note=f"over {len(v.judged) - 1} rounds"))
        logger.info(figure_table(figures, "Leak rule"), html=True)
        logger.info(growth_table(verdicts), html=True)
        logger.info(growth_chart(verdicts), html=True)
        leaks = [v for v in verdicts if v.leak]
        if leaks:
            lines = "; ".join(
                v.describe(MB, "MB") if v.resource == "rss_bytes" else v.describe(1.0, UNITS[v.resource])
                for v in leaks
            )
            raise AssertionError(f"Expected no steady climb after warm-up; {lines}.")
