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
from robot.api import logger
from robot.api.deco import keyword
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from wsresilience.components.base import deprecated_alias
from wsresilience.components.flapping_agents import FlappingAgentKeywords
from wsresilience.components.server_resources import ServerResourcesKeywords
from wsresilience.components.settings import SettingsKeywords
from wsresilience.core.client.open_errors import describe_open_error
from wsresilience.core.evidence.figures import Figure
from wsresilience.core.evidence.flapping import flap_summary_table, scenario_chart
from wsresilience.core.evidence.judge import check
from wsresilience.core.flapping.answer import ask_fresh
from wsresilience.core.flapping.engine import Disconnect, FlapPlan, FlapResult, flap
from wsresilience.core.masking import Credential, SecretOrStr, fresh_user_name, mask_url, reveal
from wsresilience.core.probes.series import Sampler
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


class FlappingKeywords(FlappingAgentKeywords):
    """Flap clients, read the run's figures back, and judge agents (the base class) and a fresh answer."""

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
        ask_agents: bool = False,
    ) -> dict[str, object]:
        """Runs ``clients`` concurrent clients through ``cycles`` connect–hold–disconnect cycles.

        ``connected`` is how long each connection is held, ``disconnected`` the pause
        before the next connect; ``jitter`` (e.g. ``20%``) scales both randomly per cycle
        with a generator seeded by ``seed``. ``disconnect`` is ``graceful`` or ``abort``
        (TCP reset). With ``credentials`` (a list from `Create Test User`; client *i*
        uses credential *i* modulo the list) every connection authenticates first.
        ``open_timeout`` bounds each opening handshake (default: the library timeout).

        Connections follow the protocol profile (`Use Protocol Profile`): its URL, its
        subprotocols and its handshake, which counts in the handshake latency; a refused
        handshake is a failed cycle with its cause (``Socket.IO CONNECT refused: …``). The
        server's application heartbeats are answered while a client holds. On a profile
        other than the reference one, client *i* presents the auth payload (`Use Auth
        Payload`) of its user: credential *i*'s, or a fresh user name per client without
        credentials. ``ask_agents=True`` asks the service for its agent once per cycle by the
        agent convention (`Use Agent Convention`).

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
        profile = self.ctx.profile
        auths: list[dict[str, object] | None] = []
        if not profile.reference_protocol:
            people = [(c.user, c.token) for c in creds] or [(fresh_user_name(f"flapper-{i}"), None)
                                                          for i in range(int(clients))]
            auths = [self.ctx.auth_payload(user, token) for user, token in people]
        plan = FlapPlan(
            url=url,
            clients=int(clients),
            cycles=int(cycles),
            connected=connected.total_seconds(),
            disconnected=disconnected.total_seconds(),
            jitter=percent(jitter),
            seed=int(seed),
            disconnect=Disconnect.parse(disconnect),
            open_timeout=self.timeout_or_default(open_timeout),
            max_message_size=self.ctx.max_message_size,
            ssl_context=self.ctx.target.ssl_context(url),
            profile=profile,
            tokens=[c.token for c in creds] if profile.reference_protocol else [],
            auths=auths,
            agents=self._convention if ask_agents else None,
        )
        if creds:
            self._users = len({c.user for c in creds[: plan.clients]})
        else:
            self._users = plan.clients if any(auths) else 0
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
            "heartbeats_answered": result.heartbeats_answered,
            "failures": result.failures_by_cause,
        }

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
