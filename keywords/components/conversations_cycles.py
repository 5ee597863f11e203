"""Many reconnects in a row, each checked whole, and how fast the history comes back.

`Reconnect Repeatedly` drives one conversation (from the context's ``conversations``
registry, started with `Start Conversation`) through disconnect, reconnect, resume and
history check cycles (:meth:`~wsresilience.core.conversations.session.SessionConversation.cycle`
runs one on the loop and returns what it found); `Get History Retrieval Time` turns the
timings every history request left behind into statistics. The conversation itself (start,
hold, disconnect, resume, restore checks) is :mod:`wsresilience.components.conversations`.
"""

from __future__ import annotations

from datetime import timedelta

from assertionengine import AssertionOperator
from robot.api import logger
from robot.api.deco import keyword

from wsresilience.components.base import LibraryComponent
from wsresilience.components.conversations import TAG, Conversations
from wsresilience.context import LibraryContext
from wsresilience.core.evidence.charts import Cycle, cycles_chart
from wsresilience.core.evidence.connections import latency_table
from wsresilience.core.evidence.figures import Figure, html_table
from wsresilience.core.evidence.judge import check
from wsresilience.core.stats import LatencyStats
from wsresilience.errors import ResilienceFailure


class ReconnectCycleKeywords(LibraryComponent):
    """Reconnect a conversation over and over, checking it whole every time; history retrieval times."""

    def __init__(self, ctx: LibraryContext) -> None:
        super().__init__(ctx)
        #: Per conversation name, its cycles: number, retrieval ms, context identical.
        self._cycles: dict[str, list[Cycle]] = {}

    # -- many reconnects, and how fast history comes back ------------------------------------------------

    @keyword(tags=["Assertion", TAG])
    def reconnect_repeatedly(
        self,
        conversation: str,
        cycles: int = 20,
        message: str = "remember fact number {cycle}",
        how: str = "close",
        criterion: str = "",
        timeout: timedelta | None = None,
    ) -> None:
        """Disconnects and resumes ``cycles`` times, checking the whole context every time.

        Each cycle: disconnect (``close`` or ``abort``), reconnect and resume, fetch the
        history and compare it with the client's record, then send ``message`` (``{cycle}``
        is replaced by the cycle number; empty sends nothing) so the context keeps
        growing, and check its reply against docs/protocol.md 7.2. Fails at the first
        cycle whose context or reply differs, naming the difference.
        Retrieval and reconnect-to-restored times are kept for `Get History Retrieval Time`.
        """
        conv = self.ctx.conversations.get(conversation)
        limit = self.timeout_or_default(timeout)
        rows: list[list[object]] = []
        failure: str | None = None
        done = 0
        record = self._cycles.setdefault(conv.name, [])
        for number in range(1, int(cycles) + 1):
            follow_up = message.replace("{cycle}", str(number)) if message else ""
            result = self.run(conv.cycle(how, limit, follow_up), f"reconnect cycle {number} of {conversation}",
                              limit * 5, conv.url)
            if result.refusal is not None:
                failure = f"{conversation} was not resumed: the server refused with {result.refusal.code} " \
                          f"({result.refusal.message})"
                break
            rows.append([number, result.entries, result.restore_ms, result.retrieval_ms,
                         "identical" if result.difference is None else "DIFFERENT",
                         "" if not follow_up else "as predicted" if result.reply_difference is None else "DIFFERENT"])
            record.append((number, result.retrieval_ms, result.difference is None))
            if result.difference is not None:
                failure = f"context of {conversation} not restored: {result.difference}"
                break
            if result.reply_difference is not None:
                failure = f"the reply in {conversation} is not the one docs/protocol.md 7.2 predicts: " \
                          f"{result.reply_difference}"
                break
            done += 1
        logger.info(html_table(["cycle", "history entries", "reconnect to restored ms", "retrieval ms", "context",
                                "reply"], rows, f"{conversation}: reconnect cycles"), html=True)
        self.judge(
            [Figure("cycles with an identical context and the predicted reply", done, "cycles", int(cycles), "==",
                    criterion)],
            "Context across reconnect cycles",
            lambda: self.ctx.mask(f"Cycle {done + 1} of {cycles}: {failure}."),
        )

    @keyword(tags=["Getter", TAG])
    def get_history_retrieval_time(
        self,
        statistic: str = "p95",
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: float | None = None,
        conversation: Conversations = "ALL",
        criterion: str = "",
        message: str | None = None,
    ) -> float:
        """Returns a statistic of history retrieval time in ms, optionally asserting on it.

        ``statistic`` is ``min``, ``mean``, ``p50``, ``p95``, ``p99``, ``max`` or ``jitter``
        over every history request of ``conversation`` (default all): from sending the
        request to having the parsed reply. Logs p50/p95/p99 and, with an assertion, the
        figure beside its threshold; after `Reconnect Repeatedly`, also a chart of the time per
        cycle, whether each cycle's context was identical, and the bound.

        | Get History Retrieval Time    p95    <    1000
        """
        convs = self.ctx.conversations.many(conversation)
        retrieval = LatencyStats.of([ms for c in convs for ms in c.retrieval_ms])
        restored = LatencyStats.of([ms for c in convs for ms in c.restore_ms])
        if retrieval.count == 0:
            raise ResilienceFailure("No history retrieval was timed yet.")
        logger.info(latency_table(retrieval, "History retrieval time (ms)"), html=True)
        if restored.count:
            logger.info(latency_table(restored, "Reconnect to restored context (ms)"), html=True)
        value = retrieval.get(statistic)
        cycled = [c for conv in convs for c in self._cycles.get(conv.name, [])]
        if cycled:
            bound = float(assertion_expected) if assertion_expected is not None and assertion_operator else None
            logger.info(cycles_chart(cycled, f"History retrieval per reconnect cycle ({len(cycled)} cycles)", bound,
                                     bound_label=f"{statistic} bound"), html=True)
        return check(value, assertion_operator, assertion_expected, f"history retrieval {statistic}", "ms",
                     criterion, message)
