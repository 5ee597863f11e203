"""The agent checks of flapping (WS-RESILIENCE-006.3): at most one agent per user.

A service with agents keeps one agent instance per user, shared by that user's connections,
however fast they flap. The checks read agent counts from one of two sources:

- **metrics** (docs/protocol.md section 9): ``ws_agent_instances`` and
  ``ws_agent_instances_per_user_max`` at the probe's metrics endpoint, sampled while the
  clients flap (any profile);
- **events** (the agent convention, docs/profiles.md): on a profile with named events
  (Socket.IO), each flapping cycle emits the service's own ask event and the service answers
  with the agent serving this user and how many agent instances it holds for the user.
  `Use Agent Convention` names the events and fields; no Python.

Where neither is available the checks SKIP with the reason. This class is the base of
:class:`~wsresilience.components.flapping.FlappingKeywords`: it holds the last run, which
`Flap Clients` fills in and these checks judge.
"""

from __future__ import annotations

from datetime import timedelta

from robot.api import SkipExecution, logger
from robot.api.deco import keyword
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from wsresilience.components.base import LibraryComponent
from wsresilience.context import LibraryContext
from wsresilience.core.client.open_errors import describe_open_error
from wsresilience.core.conversations.attempts import session_start_answer
from wsresilience.core.evidence.figures import Figure
from wsresilience.core.flapping.plan import FlapResult
from wsresilience.core.flapping.session import AgentConvention, AgentReply, ask_agent, profile_handshake
from wsresilience.core.masking import SecretOrStr, fresh_user_name, mask_url, reveal
from wsresilience.core.probes.series import Snapshot
from wsresilience.errors import ProbeLost, ProbeUnavailable, ResilienceFailure

CONCERN = "Flapping"


class FlappingAgentKeywords(LibraryComponent):
    """The last flapping run, and the checks of agents per user judged on it."""

    def __init__(self, ctx: LibraryContext) -> None:
        super().__init__(ctx)
        #: The last run, its resource samples and how many distinct users flapped in it.
        self._last: FlapResult | None = None
        self._samples: list[Snapshot] = []
        self._users = 0
        #: How the service's own events tell about agents (`Use Agent Convention`).
        self._convention = AgentConvention()
        ctx.on_close(self._forget)

    def _forget(self) -> None:
        """End of scope: drop the last run and its samples (the engine left nothing open)."""
        self._last, self._samples, self._users = None, [], 0

    def _require_run(self) -> FlapResult:
        if self._last is None:
            raise ResilienceFailure("No flapping run yet; use Flap Clients first.")
        return self._last

    def _agent_limit(self) -> float | None:
        """Most agents the server may hold during the last run: before it, plus one per user."""
        if not self._users or not self._samples or self._samples[0].get("agents") is None:
            return None
        return (self._samples[0].get("agents") or 0.0) + self._users

    @keyword(tags=["Setter", CONCERN])
    def use_agent_convention(self, ask_event: str = "agent", reply_event: str = "agent",
                             id_field: str = "agent_id", count_field: str = "agents") -> None:
        """Names the service's own events that tell about its agents (docs/profiles.md).

        The client emits ``ask_event``; the service answers with ``reply_event`` whose first
        argument is an object with ``id_field`` (the agent serving this user) and
        ``count_field`` (the agent instances it holds for this user now). `Flap Clients`
        with ``ask_agents=True`` asks once per cycle.

        | Use Agent Convention    whoami    whoami    agent    instances
        """
        self._convention = AgentConvention(ask_event, reply_event, id_field, count_field)
        logger.info(f"Agent convention: {self._convention.describe()}.")

    @keyword(tags=["Assertion", CONCERN])
    def target_should_have_agents(self, url: SecretOrStr, timeout: timedelta = timedelta(seconds=1)) -> str:
        """Returns where agent counts come from, ``metrics`` or ``events``; SKIPs when neither.

        ``metrics``: the probe's metrics expose ``ws_agent_instances``. ``events``: the
        profile has named events and the service answers the agent convention's ask event
        within ``timeout`` on a fresh connection (profile handshake included).

        | ${source} =    Target Should Have Agents    ${TARGET_URL}
        """
        url = reveal(url)
        probe = self.ctx.probe
        if probe.metrics_url:
            try:
                if probe.snapshot().get("agents") is not None:
                    return "metrics"
            except (ProbeUnavailable, ProbeLost) as exc:
                logger.info(f"No agent metrics: {exc}")
        lacks = f"exposes no agent count (metric ws_agent_instances) via {probe.describe()}"
        profile = self.ctx.profile
        if profile.emit(self._convention.ask_event) is None:
            raise SkipExecution(f"The target {lacks}, and the {profile.name} profile has no named events for "
                                f"the agent convention: agents per user cannot be checked.")
        try:
            reply = self.run(self._ask_once(url, timeout.total_seconds()), "an answer to the agent convention",
                             timeout.total_seconds() + self.ctx.timeout + 2, url)
        except ConnectionClosed as exc:
            reply = f"it closed the connection ({exc})"
        except (OSError, InvalidHandshake, InvalidURI) as exc:
            raise ResilienceFailure(describe_open_error(exc, url, self.ctx.timeout)) from None
        if isinstance(reply, str):
            raise SkipExecution(self.ctx.mask(
                f"The target {lacks}, and {reply} (agent convention: {self._convention.describe()}; "
                f"docs/profiles.md): agents per user cannot be checked."))
        logger.info(f"The service answers the agent convention: agent {reply.agent_id}, {reply.count} agent(s).")
        return "events"

    async def _ask_once(self, url: str, timeout: float) -> AgentReply | str:
        """One connection as a fresh user: the profile's handshake, then the ask event."""
        profile = self.ctx.profile
        ssl_context = self.ctx.target.ssl_context(url)
        kwargs = {"ssl": ssl_context} if ssl_context is not None else {}
        async with connect(profile.connect_url(url), subprotocols=list(profile.subprotocols) or None,
                           open_timeout=self.ctx.timeout, proxy=None, **kwargs) as ws:
            _, cause = await profile_handshake(ws, profile, self.ctx.auth_payload(fresh_user_name("agent-probe")),
                                               self.ctx.timeout)
            if cause:
                return f"its handshake failed: {cause}"
            reply = await ask_agent(ws, profile, self._convention, timeout)
        if reply is None or reply.count is None:
            return (f"it did not answer {self._convention.ask_event!r} with a {self._convention.reply_event!r} "
                    f"event holding {self._convention.count_field!r} within {timeout:g} s")
        return reply

    @keyword(tags=["Assertion", CONCERN])
    def agent_instances_should_stay_at_one_per_user(self, criterion: str = "") -> int:
        """Fails unless the last run saw at most one agent per user, at every sample and in
        every agent reply.

        Judged on the server's ``ws_agent_instances_per_user_max`` at every sample when
        exposed, and on ``ws_agent_instances`` never exceeding the count before the run
        plus the number of distinct users that flapped; and on the count in every reply to
        the agent convention when the run asked (`Flap Clients` ``ask_agents=True``). SKIPs
        when the run was not authenticated or neither source gave a count. Returns the
        samples and replies judged.

        | Agent Instances Should Stay At One Per User    criterion=AC-006.3
        """
        run = self._require_run()
        if not self._users:
            raise SkipExecution("The last flapping run was not authenticated: there are no users "
                                "whose agents could be counted.")
        samples = [s for s in self._samples if s.get("agents") is not None]
        replies = run.agent_replies
        if not samples and not replies:
            raise SkipExecution(
                f"The target exposes no agent instance count (metric ws_agent_instances) via "
                f"{self.ctx.probe.describe()}, and the run did not ask by the agent convention: agents "
                f"per user cannot be checked."
            )
        figures: list[Figure] = []
        worst_sample = ""
        if samples:
            before = samples[0].get("agents") or 0.0
            worst = max(samples, key=lambda s: s.get("agents") or 0.0)
            worst_sample = f" (worst sample at {worst.t - samples[0].t:.2f} s: {worst})"
            figures.append(Figure("agent instances, most at any sample", worst.get("agents") or 0.0, "agents",
                                  before + self._users, "<=", criterion,
                                  note=f"{before:g} before + {self._users} users; {len(samples)} samples"))
            per_user = [s.get("agents_per_user_max") for s in samples if s.get("agents_per_user_max") is not None]
            if per_user:
                figures.append(Figure("agents of one user, most at any sample", max(per_user), "agents",
                                      1, "<=", criterion, note=f"{len(per_user)} samples"))
        if replies:
            most = max(replies, key=lambda c: c.agents or 0.0)
            figures.append(Figure("agents of one user, most in any agent reply", most.agents or 0.0, "agents", 1,
                                  "<=", criterion, note=f"{len(replies)} replies ({self._convention.reply_event!r})"))

        def too_many() -> str:
            bad = next(f for f in figures if not f.passed)
            return f"Expected at most one agent instance per user during flapping; {bad.describe()}{worst_sample}."

        self.judge(figures, "At most one agent per user during flapping", too_many)
        return len(samples) + len(replies)

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
