"""Flapping keywords: many clients connecting and dropping, and what the server made of it.

`Flap Clients` hands a :class:`~wsresilience.core.flapping.engine.FlapPlan` to the engine on the
shared loop and, while it runs, a :class:`~wsresilience.core.probes.series.Sampler` thread reads
the server through the one probe the context holds (``ctx.probe``, set by `Configure Server
Probes`). The engine returns a :class:`~wsresilience.core.flapping.engine.FlapResult`; this
component keeps the last one, reads figures back from it (the getters) and judges the
samples (agents per user). `Fresh Connection Should Get An Answer Within` asks through
:func:`~wsresilience.core.flapping.answer.ask_fresh`, which returns what came back, and judges it
here.

Snapshots before and after, settling and the leak rule belong to the server resources
component (:mod:`wsresilience.components.server_resources`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta

from assertionengine import AssertionOperator
from robot.api import SkipExecution, logger
from robot.api.deco import keyword
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from wsresilience.components.base import LibraryComponent, deprecated_alias
from wsresilience.components.server_resources import ServerResourcesKeywords
from wsresilience.components.settings import SettingsKeywords
from wsresilience.context import LibraryContext
from wsresilience.core.client.open_errors import describe_open_error
from wsresilience.core.evidence.figures import Figure
from wsresilience.core.evidence.flapping import flap_summary_table, scenario_chart
from wsresilience.core.conversations.attempts import session_start_answer
from wsresilience.core.evidence.judge import check
from wsresilience.core.flapping.answer import ask_fresh
from wsresilience.core.flapping.engine import Disconnect, FlapPlan, FlapResult, flap
from wsresilience.core.masking import Credential, SecretOrStr, mask_url, reveal
from wsresilience.core.probes.series import Sampler, Snapshot
from wsresilience.core.runtime.timeouts import percent
from wsresilience.errors import ResilienceFailure, WaitTimeout

CONCERN = "Flapping"


def _credentials(credentials: Sequence[Credential] | None) -> list[Credential]:
    """The credentials as a list, refusing anything `Create Test User` did not make."""
    creds = list(credentials or [])
    for c in creds:
        if not isinstance(c, Credential):
            raise TypeError(f"Expected credentials from Create Test User, got {type(c).__name__}.")
    return creds


def _so_far(result: FlapResult) -> str:
    """How far a run got, for a timeout: cycles ended, successes, failures by cause."""
    cycles = list(result.cycles)  # the loop may still be appending
    failed = FlapResult(result.plan, result.started, cycles=cycles).describe_failures()
    ok = sum(1 for c in cycles if c.ok)
    return f"{len(cycles)} cycle(s) had ended, {ok} succeeded" + (f"; failures: {failed}" if failed else "")


class FlappingKeywords(LibraryComponent):
    """Flap clients, read the run's figures back, and judge agents and a fresh answer."""

    def __init__(self, ctx: LibraryContext) -> None:
        super().__init__(ctx)
        #: The last run, its resource samples and how many distinct users flapped in it.
        self._last: FlapResult | None = None
        self._samples: list[Snapshot] = []
        self._users = 0
        ctx.on_close(self._forget)

    def _forget(self) -> None:
        """End of scope: drop the last run and its samples (the engine left nothing open)."""
        self._last, self._samples, self._users = None, [], 0

    # -- deprecated configuration --------------------------------------------------------------

    set_flapping_timeout = deprecated_alias(
        "Set Flapping Timeout", SettingsKeywords, "set_library_timeout", tags=["Setter", "Deprecated", CONCERN],
        doc="""Deprecated: use `Set Library Timeout`, which does the same. Sets the default wait timeout.

        Returns the old timeout as a Robot time string.
        """)

    use_server_probes = deprecated_alias(
        "Use Server Probes", ServerResourcesKeywords, "configure_server_probes",
        tags=["Setter", "Deprecated", CONCERN],
        doc="""Deprecated: use `Configure Server Probes`, the library's one probe configuration.

        Takes the same arguments and configures the same probe (``ctx.probe``), which the
        sampler of `Flap Clients` and the agent checks read.
        """)

    # -- flapping ----------------------------------------------------------------------------------

    @keyword(tags=[CONCERN])
    def flap_clients(
        self,
        url: SecretOrStr,
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
        ``open_timeout`` bounds each opening handshake (default: the library timeout).

        When probes are configured (`Configure Server Probes`), server resources are
        sampled every ``sample_every`` during the run. Logs the run summary and the
        resource chart; returns a summary (attempts, successes, success rate in %,
        cycles/s, handshake p95 in ms, failures by cause). Fails when not one cycle
        succeeds, and at once, naming the error, when a client meets one that no reconnect
        can heal (an invalid URL, an unknown host, an untrusted certificate, an HTTP 4xx
        answer to the upgrade). A run that runs out of time says how far it got.

        | ${run} =    Flap Clients    ${URL}    clients=10    cycles=50    jitter=20%    seed=7
        | Flap Clients    ${URL}    disconnect=abort    credentials=${users}
        """
        url = reveal(url)
        creds = _credentials(credentials)
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
            open_timeout=self.timeout_or_default(open_timeout),
            max_message_size=self.ctx.max_message_size,
            ssl_context=self.ctx.target.ssl_context(url),
        )
        self._users = len({c.user for c in creds[: plan.clients]}) if creds else 0
        probe = self.ctx.probe
        sampler = Sampler(probe, sample_every.total_seconds()).start() if probe.configured else None
        result = FlapResult(plan, time.monotonic())
        try:
            self.run(flap(plan, result), f"{plan.clients} clients to flap {plan.cycles} times",
                     plan.time_budget, url)
        except WaitTimeout as timeout:
            raise WaitTimeout(timeout.what, timeout.elapsed, timeout.target, _so_far(result)) from None
        finally:
            self._samples = sampler.stop() if sampler is not None else []
            self._last = result
        logger.info(flap_summary_table(result), html=True)
        if self._samples:
            logger.info(scenario_chart(self._samples, self._agent_limit()), html=True)
        elif sampler is not None:
            logger.info(f"No resource samples during flapping: {sampler.last_error}.")
        stop = result.stopped_by
        if stop is not None:
            raise ResilienceFailure(
                f"Expected flapping clients to connect to {mask_url(url)}; client {stop.client} met an "
                f"error no reconnect can heal in its cycle {stop.index + 1}, so the run stopped after "
                f"{result.attempts} cycle(s) in {result.duration:.3f} s: {stop.error}"
            )
        if result.successes == 0:
            raise ResilienceFailure(
                f"Expected flapping clients to connect to {mask_url(url)}; none of "
                f"{result.attempts} cycles succeeded ({result.describe_failures()})."
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
            raise ResilienceFailure("No flapping run yet; use Flap Clients first.")
        return self._last

    def _agent_limit(self) -> float | None:
        """Most agents the server may hold during the last run: before it, plus one per user."""
        if not self._users or not self._samples or self._samples[0].get("agents") is None:
            return None
        return (self._samples[0].get("agents") or 0.0) + self._users

    # -- the run's figures ---------------------------------------------------------------------

    @keyword(tags=["Getter", CONCERN])
    def get_connection_success_rate(
        self,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: float | None = None,
        criterion: str = "",
        message: str | None = None,
    ) -> float:
        """Returns the last run's connection success rate in percent, optionally asserting.

        A failed assertion names the failed cycles by cause.

        | Get Connection Success Rate    >=    99    criterion=AC-006.1
        """
        run = self._require_run()
        if assertion_operator is not None and run.failures_by_cause:
            causes = run.describe_failures()
            logger.info(f"Failed cycles by cause: {causes}.")
            message = message or (
                f"Expected connection success rate {assertion_operator.value} {assertion_expected} %; "
                f"got {run.success_rate:.2f} % ({run.successes} of {run.attempts}; failures: {causes})."
            )
        return check(run.success_rate, assertion_operator, assertion_expected,
                     "connection success rate", "%", criterion, message)

    @keyword(tags=["Getter", CONCERN])
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
            raise ResilienceFailure("No handshake completed in the last flapping run: no latency to report.")
        return check(stats.get(statistic), assertion_operator, assertion_expected,
                     f"handshake latency {statistic}", "ms", criterion, message)

    @keyword(tags=["Getter", CONCERN])
    def get_attempt_rate(
        self,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: float | None = None,
        criterion: str = "",
        message: str | None = None,
    ) -> float:
        """Returns the last run's attempt rate (cycles per second), optionally asserting.

        Without an operator the figure is still logged, as a reported figure.

        | Get Attempt Rate
        | Get Attempt Rate    >=    50
        """
        run = self._require_run()
        if assertion_operator is None:
            logger.info(f"Attempt rate: {run.cycles_per_s:.1f} cycles/s ({run.attempts} cycles in "
                        f"{run.duration:.2f} s).")
        return check(run.cycles_per_s, assertion_operator, assertion_expected,
                     "attempt rate", "cycles/s", criterion, message)

    @keyword(tags=["Getter", CONCERN])
    def get_flapping_failures(
        self,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: object = None,
        message: str | None = None,
    ) -> dict[str, int]:
        """Returns the last run's failed cycles by cause (empty when none failed), optionally asserting.

        | ${failures} =    Get Flapping Failures
        | Get Flapping Failures    ==    ${{ {} }}
        """
        return check(self._require_run().failures_by_cause, assertion_operator, assertion_expected,
                     "flapping failures by cause", message=message)

    # -- judged after a run ----------------------------------------------------------------------

    @keyword(tags=["Assertion", CONCERN])
    def agent_instances_should_stay_at_one_per_user(self, criterion: str = "") -> int:
        """Fails unless every resource sample of the last run held at most one agent per user.

        Judged on the server's ``ws_agent_instances_per_user_max`` at every sample when
        exposed, and on ``ws_agent_instances`` never exceeding the count before the run
        plus the number of distinct users that flapped. SKIPs when the run was not
        authenticated or the target exposes no agent count. Returns the samples judged.

        | Agent Instances Should Stay At One Per User    criterion=AC-006.3
        """
        self._require_run()
        if not self._users:
            raise SkipExecution("The last flapping run was not authenticated: there are no users "
                                "whose agents could be counted.")
        samples = [s for s in self._samples if s.get("agents") is not None]
        if not samples:
            raise SkipExecution(
                f"The target exposes no agent instance count (metric ws_agent_instances) via "
                f"{self.ctx.probe.describe()}: agents per user cannot be checked."
            )
        before = samples[0].get("agents") or 0.0
        worst = max(samples, key=lambda s: s.get("agents") or 0.0)
        figures = [Figure("agent instances, most at any sample", worst.get("agents") or 0.0, "agents",
                          before + self._users, "<=", criterion,
                          note=f"{before:g} before + {self._users} users; {len(samples)} samples")]
        per_user = [s.get("agents_per_user_max") for s in samples if s.get("agents_per_user_max") is not None]
        if per_user:
            figures.append(Figure("agents of one user, most at any sample", max(per_user), "agents",
                                  1, "<=", criterion, note=f"{len(per_user)} samples"))

        def too_many() -> str:
            bad = next(f for f in figures if not f.passed)
            return (f"Expected at most one agent instance per user at every sample; {bad.describe()} "
                    f"(worst sample at {worst.t - samples[0].t:.2f} s: {worst}).")

        self.judge(figures, "At most one agent per user during flapping", too_many)
        return len(samples)

    @keyword(tags=["Assertion", CONCERN])
    def target_should_speak_the_agent_protocol(self, url: SecretOrStr,
                                               timeout: timedelta | None = None) -> None:
        """Skips the test unless ``url`` speaks the agent protocol (docs/protocol.md §9).

        Sends ``ask`` unauthenticated: a server with agents answers error ``unauthenticated``;
        anything else means the agent checks cannot run here, and the test ends SKIP with
        what came back (never PASS).
        """
        url = reveal(url)
        limit = self.timeout_or_default(timeout)
        answer = self.run(session_start_answer(url, limit, self.ctx.target.ssl_context(url),
                                               message={"type": "ask", "text": "are you there?"}),
                          "an answer to ask", limit + 2, url)
        if isinstance(answer, dict) and answer.get("type") == "error" and answer.get("code") == "unauthenticated":
            return
        seen = answer if isinstance(answer, str) else f"a {answer.get('type')!r} message"
        raise SkipExecution(self.ctx.mask(
            f"The target {mask_url(url)} does not speak the reference agent protocol (docs/protocol.md "
            f"section 9): an unauthenticated ask got {seen}, not error 'unauthenticated'."
        ))

    @keyword(tags=["Assertion", CONCERN])
    def fresh_connection_should_get_an_answer_within(
        self,
        url: SecretOrStr,
        credential: Credential,
        bound: timedelta = timedelta(seconds=1),
        question: str = "Are you still there?",
        criterion: str = "",
    ) -> float:
        """Opens a new connection, authenticates, asks the agent, and checks the answer in time.

        The answer must be ``{"type": "answer", "text": "You said: <question>"}`` from the
        agent named in ``auth-ok``, within ``bound`` of starting to connect. Returns the
        seconds it took. (Reference protocol: ``auth`` then ``ask``; see docs/protocol.md.)

        | Fresh Connection Should Get An Answer Within    ${URL}    ${newcomer}    1 s
        """
        url = reveal(url)
        if not isinstance(credential, Credential):
            raise TypeError(f"Expected a credential from Create Test User, got {type(credential).__name__}.")
        limit = bound.total_seconds()
        wait = max(limit, self.ctx.timeout)
        plan = FlapPlan(url=url, open_timeout=wait, ssl_context=self.ctx.target.ssl_context(url))
        try:
            answer = self.run(ask_fresh(plan, credential.token, question),
                              f"an answer from {credential.user}'s agent", wait + 1, url)
        except ConnectionClosed as exc:
            raise ResilienceFailure(f"Expected an answer from the agent; the server closed the connection "
                                    f"({exc}) at {mask_url(url)}.") from None
        except (OSError, InvalidHandshake, InvalidURI) as exc:
            raise ResilienceFailure(describe_open_error(exc, url, wait)) from None
        if answer.refused:
            raise ResilienceFailure(f"Expected {credential.user} to authenticate; {answer.refused}.")
        figure = Figure("connect, authenticate, ask and get the answer", answer.took, "s", limit, "<=",
                        criterion, note=f"agent {answer.reply.get('agent_id')}")
        wrong = answer.wrong(question)
        # A wrong answer is the first thing to say, late or not; a right one must still be in time.
        self.judge([figure], "Answer right after flapping", wrong or f"Expected {figure.describe()}.")
        if wrong:
            raise ResilienceFailure(wrong)
        return answer.took
