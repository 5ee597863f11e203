"""The verdicts of the stream keywords: whole, resumed in place, in time, refused plainly.

:class:`StreamChecks` finds sessions and streams by name and holds every keyword that judges
what a :class:`~wsresilience.core.streams.session.StreamSession` recorded. The figures come from
:mod:`wsresilience.core.evidence.streams` and are judged through
:meth:`~wsresilience.components.base.LibraryComponent.judge`, so each table is logged beside its
thresholds whether the check passes or not, and a failure is one line.

:class:`~wsresilience.components.streams.StreamKeywords` builds on it with the keywords that
connect, stream, cut and resume; the two are one component.
"""

from __future__ import annotations

import tracemalloc
from datetime import timedelta

import psutil
from robot.api import logger
from robot.api.deco import keyword

from wsresilience.components.base import LibraryComponent
from wsresilience.context import LibraryContext
from wsresilience.core.evidence.figures import Figure
from wsresilience.core.evidence.streams import (
    backoff_table,
    integrity_figures,
    own_position_figure,
    planned_out_of_bounds,
    positions_table,
    recovery_time_figures,
    resume_position_figures,
    retry_delay_figures,
)
from wsresilience.core.runtime.timeouts import percent
from wsresilience.core.streams.backoff import RetryLog
from wsresilience.core.streams.session import StreamSession
from wsresilience.core.streams.tracked import TrackedStream
from wsresilience.errors import ResilienceFailure

TAG = "Streams"

#: Bytes in a mebibyte: the unit the library shows sizes in.
MIB = 1 << 20


class StreamChecks(LibraryComponent):
    """Lookups by name, and the keywords that judge streams, recoveries and retries."""

    def __init__(self, ctx: LibraryContext) -> None:
        super().__init__(ctx)
        #: The session whose connect gave up last: `Retry Delays Should Follow The Policy`
        #: judges it (it never joins the registry).
        self._last_failed_session: StreamSession | None = None
        #: ``(traced bytes, RSS)`` when `Start Measuring Client Memory` ran.
        self._memory_baseline: tuple[int, int] | None = None

    # -- lookups -------------------------------------------------------------------------------

    def _session(self, name: str) -> StreamSession:
        """The session named ``name``; a miss names the open ones (the registry's wording)."""
        return self.ctx.stream_sessions.get(name)

    def _stream(self, name: str) -> tuple[StreamSession, TrackedStream]:
        """The stream named ``name`` in any session, with its session."""
        for session in self.ctx.stream_sessions:
            if name in session.streams:
                return session, session.streams[name]
        known = ", ".join(n for s in self.ctx.stream_sessions for n in s.streams) or "none"
        raise ValueError(f"No stream named {name!r}; known: {known}.")

    # -- the stream itself ------------------------------------------------------------------------

    @keyword(tags=[TAG, "Assertion"])
    def stream_should_be_intact(self, stream: str, criterion: str = "") -> None:
        """Verifies the stream: each resume started right after the last seq, and the assembled
        stream has every seq once, in order, its size, SHA-256, schema and components.

        Fails naming the misplaced resume (its cut number and seqs), the first missing or
        duplicated seq, the hash mismatch, the schema error or the missing component. A resume
        that skipped a chunk fails even when a later resume delivered it, and one that
        repeated fails even though the assembler drops the repeat: the service broke its
        promise either way, and the next cut may not come to heal it.
        """
        _, tracked = self._stream(stream)
        a = tracked.assembly
        figures = integrity_figures(tracked, criterion)
        logger.info(f"Stream {stream!r}: {a.received} chunks, {len(a.payload())} bytes assembled, "
                    f"{len(a.duplicates)} repeat(s) dropped, over {len(tracked.recoveries)} cut(s).")
        self.judge(figures, f"Integrity of stream {stream!r}",
                   lambda: tracked.failure() or _first_miss(figures))

    @keyword(tags=[TAG, "Assertion"])
    def resume_should_continue_right_after_the_last_chunk(self, stream: str, criterion: str = "") -> None:
        """Verifies on the wire that every resume replayed from last seq + 1, and nothing twice.

        `Stream Should Be Intact` drops exact repeats; this keyword does not forgive them:
        the protocol promises a replay that starts right after the client's last seq.
        """
        _, tracked = self._stream(stream)
        figures = resume_position_figures(tracked, criterion)

        def failure() -> str:
            duplicates = tracked.assembly.duplicates
            misplaced = tracked.resume_problems()
            if misplaced:
                return f"Stream {stream!r}: {misplaced[0]}."
            if duplicates:
                return (f"Stream {stream!r}: first duplicated seq {duplicates[0]} "
                        f"({len(duplicates)} chunk(s) delivered twice).")
            return f"Stream {stream!r} was never resumed: {_first_miss(figures, '')}."

        self.judge(figures, f"Resume position of stream {stream!r}", failure)

    @keyword(tags=[TAG, "Assertion"])
    def streams_should_resume_at_their_own_positions(self, *streams: str, criterion: str = "") -> None:
        """Checks that each stream's last resume was answered from its own last seq + 1.

        With several streams on one connection, each has its own position; a service that
        mixes them up, or resumes all from one seq, fails here.
        """
        tracked = [self._stream(name)[1] for name in streams]
        for t in tracked:
            if not t.recoveries:
                raise ResilienceFailure(f"Stream {t.name!r} was never cut, so it never resumed.")
        logger.info(positions_table(tracked), html=True)
        figures = [own_position_figure(t, criterion) for t in tracked]
        self.judge(figures, "Resume positions", lambda: f"Expected {_first_miss(figures, '')}.")

    @keyword(tags=[TAG, "Assertion"])
    def recovery_times_should_be_within(
        self,
        stream: str,
        reconnect: timedelta = timedelta(seconds=2),
        resume: timedelta = timedelta(milliseconds=500),
        total: timedelta = timedelta(seconds=5),
        criterion: str = "",
    ) -> None:
        """Checks the slowest recovery of ``stream``: reconnect, resume and total recovery time.

        *reconnect* is cut → new connection open (retries included); *resume* is connection
        open → first resumed chunk; *total* is cut → stream complete.
        """
        _, tracked = self._stream(stream)
        if not tracked.recoveries:
            raise ResilienceFailure(f"Stream {stream!r} was never cut, so there is no recovery to time.")
        figures = recovery_time_figures(tracked, reconnect.total_seconds(), resume.total_seconds(),
                                        total.total_seconds(), criterion)
        self.judge(figures, f"Recovery times of stream {stream!r}",
                   lambda: f"Stream {stream!r}: expected {_first_miss(figures, '')}.")

    # -- retries and memory ---------------------------------------------------------------------------

    @keyword(tags=[TAG, "Assertion"])
    def retry_delays_should_follow_the_policy(self, late: timedelta = timedelta(milliseconds=10),
                                              share: str = "10%", criterion: str = "",
                                              tolerance: timedelta | None = None) -> None:
        """Compares each measured delay between reconnect attempts with its own planned delay.

        Uses the latest connect or resume of any session (failed ones included). Each delay
        must come from the policy's seeded schedule, within ``[0, ceiling]``, and the client
        must have waited it: at most ``share`` of the delay early (so a client that never
        waits fails, however short the delay), and at most ``late`` or ``share`` of the
        delay late, whichever is more (the lateness a busy machine adds to any sleep).
        ``tolerance`` is deprecated: it is taken as ``late``.

        | Retry Delays Should Follow The Policy    late=10 ms    share=10%
        """
        if tolerance is not None:
            self.deprecated("Retry Delays Should Follow The Policy    tolerance=…",
                            "Retry Delays Should Follow The Policy    late=…    share=…")
            late = tolerance
        log = self._latest_retry_log()
        logger.info(backoff_table(log), html=True)
        figures = retry_delay_figures(log, percent(share), late.total_seconds(), criterion)
        out_of_bounds = planned_out_of_bounds(log)
        bounds = (f"Planned delay before attempt {out_of_bounds[0]} is outside [0, ceiling]."
                  if out_of_bounds else "")

        def failure() -> str:
            return bounds or f"Retry delays do not follow the policy: {_first_miss(figures, '')}."

        self.judge(figures, "Measured retry delays", failure)
        if bounds:
            raise ResilienceFailure(bounds)
        if len(log.measured_delays) + 1 != len(log.attempts) or not log.measured_delays:
            raise ResilienceFailure(f"Expected several attempts, saw {len(log.attempts)}.")

    def _latest_retry_log(self) -> RetryLog:
        """The retry (connect or reconnect) that began last, in any session or the session
        whose connect gave up."""
        sessions = [*self.ctx.stream_sessions, *filter(None, [self._last_failed_session])]
        logs = [log for s in sessions for log in s.retry_logs if log.attempts]
        if not logs:
            raise ResilienceFailure("No reconnect attempts were made yet.")
        return max(logs, key=lambda log: log.attempts[0].started)

    @keyword(tags=[TAG])
    def start_measuring_client_memory(self) -> None:
        """Starts tracing this process's Python allocations (``tracemalloc``) and notes the RSS.

        Why tracemalloc: it counts exactly what the client allocates (buffers, chunks,
        assembled text) and nothing the allocator merely keeps; RSS grows in steps and
        rarely shrinks, so it is logged beside it as a cross-check.
        """
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        tracemalloc.start()
        self._memory_baseline = (tracemalloc.get_traced_memory()[0], psutil.Process().memory_info().rss)

    @keyword(tags=[TAG, "Assertion"])
    def client_memory_overhead_should_be_below(self, limit_mb: float, criterion: str = "") -> float:
        """Stops tracing; fails if the peak traced allocation since the start exceeded ``limit_mb``.

        Returns the overhead in MB (10^6 bytes); the figure is shown in MiB beside the same
        bound converted.
        """
        if self._memory_baseline is None or not tracemalloc.is_tracing():
            raise ResilienceFailure("Start Measuring Client Memory was not called.")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        base, rss0 = self._memory_baseline
        self._memory_baseline = None
        overhead = (peak - base) / 1e6
        rss_delta = (psutil.Process().memory_info().rss - rss0) / 1e6
        # Shown in MiB (the library's sizes are binary); the bound is the same limit_mb decimal
        # megabytes, converted, so the criterion is neither looser nor stricter than asked.
        figure = Figure("client memory overhead (tracemalloc peak)", (peak - base) / MIB, "MiB",
                        float(limit_mb) * 1e6 / MIB, "<", criterion,
                        note=f"bound {float(limit_mb):g} MB (10^6 bytes); RSS grew {rss_delta:.1f} MB meanwhile "
                             "(cross-check)")
        self.judge([figure], "Client memory", f"Expected {figure.describe()}.")
        return overhead


def _first_miss(figures: list[Figure], prefix: str = "Expected ") -> str:
    """The first figure off its threshold, described in one line (``prefix`` before it)."""
    failed = next((f for f in figures if not f.passed), None)
    return f"{prefix}{failed.describe()}" if failed is not None else ""
