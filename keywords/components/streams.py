"""Stream-resume keywords: receive streams over real connections, cut them, resume them.

:class:`StreamKeywords` is the component. Sessions live in the shared context's
``stream_sessions`` registry; every loop-side step (connect with backoff, start, cut,
resume, wait) is a :class:`~wsresilience.core.streams.session.StreamSession` method that
returns what happened, and the keywords here word and judge it. The judging keywords are
in :mod:`wsresilience.components.streams_checks`, the base of this class.

A session connected to the URL of a proxy in the context's ``proxies`` registry (made by
the network-fault keywords, or by the deprecated `Start Degraded Network Proxy`) is cut by
that proxy, with a TCP reset from the network, instead of by a client abort.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
import tracemalloc
from datetime import timedelta
from typing import Any

from assertionengine import AssertionOperator
from robot.api import SkipExecution, logger
from robot.api.deco import keyword

from wsresilience.components.streams_checks import TAG, StreamChecks
from wsresilience.components.streams_profiles import StreamProfileKeywords
from wsresilience.components.streams_proxy import DegradedProxyKeywords
from wsresilience.context import LibraryContext
from wsresilience.core.evidence.figures import Figure
from wsresilience.core.evidence.judge import check
from wsresilience.core.masking import SecretOrStr, mask_url, reveal
from wsresilience.core.evidence.streams import attempts_table, recovery_table, stream_resume_chart
from wsresilience.core.streams.adapter import Refused, StreamRequest
from wsresilience.core.streams.backoff import BackoffPolicy
from wsresilience.core.streams.cuts import progress, receive_with_cuts
from wsresilience.core.streams.session import StreamSession, close_sessions
from wsresilience.core.streams.unknown import ask_resume_of
from wsresilience.errors import ResilienceFailure, RetriesExhausted, StreamRefused


class StreamKeywords(StreamChecks, StreamProfileKeywords, DegradedProxyKeywords):
    """Sessions, streams, cuts and resumes; the checks come from :class:`StreamChecks`, the
    adapter per profile from :class:`StreamProfileKeywords`, the deprecated proxy keywords
    from :class:`DegradedProxyKeywords`."""

    def __init__(self, ctx: LibraryContext) -> None:
        super().__init__(ctx)
        self.policy = BackoffPolicy()
        self._reserved: list[socket.socket] = []
        ctx.on_close(self._close)

    def _close(self) -> None:
        """End of scope: close the sessions and free held ports (the proxy stops after)."""
        sessions = self.ctx.stream_sessions.clear()
        if sessions and self.ctx.loop_started:
            self.run(close_sessions(sessions), "stream connections to close", timeout=10)
        for sock in self._reserved:
            sock.close()
        self._reserved.clear()
        if tracemalloc.is_tracing():
            tracemalloc.stop()

    def _recovery_timeout(self, wait: float) -> float:
        """How long a reconnect and resume may take in all: ``wait`` per attempt, one more for
        the answer, and slack for the backoff delays."""
        return wait * (self.policy.limit + 1) + 5

    # -- configuration ---------------------------------------------------------------------------

    @keyword(tags=[TAG, "Setter"])
    def use_stream_protocol_adapter(self, adapter: str) -> str:
        """Selects the protocol adapter for sessions opened from now on; returns the old one.

        ``adapter`` is ``reference`` or a dotted path to a ``StreamAdapter`` subclass
        (docs/adapters.md; the API is in ``wsresilience.extend``).

        | Use Stream Protocol Adapter    mycompany.streams.SseBridgeAdapter
        """
        old = self.adapter.name
        self.select_adapter(adapter)
        logger.info(f"Stream protocol adapter: {self.adapter.name} (was {old}).")
        return old

    @keyword(tags=[TAG, "Setter"])
    def set_stream_retry_policy(
        self,
        base: timedelta = timedelta(milliseconds=50),
        factor: float = 2.0,
        cap: timedelta = timedelta(seconds=2),
        limit: int = 8,
        jitter: str = "full",
        seed: int = 0,
    ) -> str:
        """Sets the reconnect policy for sessions opened from now on and returns it as text.

        Attempt 1 is immediate; before attempt *n* the client waits up to
        ``min(cap, base × factor^(n-2))`` (``jitter=full``: a uniform random delay up to
        that ceiling; ``none``: the ceiling itself). ``limit`` counts all attempts.

        | Set Stream Retry Policy    base=100 ms    factor=2    cap=1 s    limit=5
        """
        self.policy = BackoffPolicy(base.total_seconds(), float(factor), cap.total_seconds(),
                                    int(limit), jitter.strip().lower(), int(seed))  # type: ignore[arg-type]
        return self.policy.describe()

    @keyword(tags=[TAG, "Getter"])
    def get_unreachable_service_url(self, assertion_operator: AssertionOperator | None = None,
                                    assertion_expected: Any = None, message: str | None = None) -> str:
        """Returns a ``ws://`` URL on loopback where nothing listens (connections refused).

        The port is held (bound, never listening) until the suite ends, so no other
        process can take it meanwhile. With an assertion operator the URL is checked
        instead (``Get Unreachable Service Url    *=    127.0.0.1``).
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._reserved.append(sock)
        url = f"ws://127.0.0.1:{sock.getsockname()[1]}/"
        return check(url, assertion_operator, assertion_expected, "unreachable service URL",
                     message=message)

    # -- connecting and streaming ------------------------------------------------------------------

    @keyword(tags=[TAG])
    def connect_to_stream_service(self, url: SecretOrStr, session: str = "main",
                                  timeout: timedelta | None = None) -> str:
        """Opens a session's connection to ``url``, retrying per the retry policy.

        Fails after the policy's last attempt with a message naming the attempts and the
        last error; at the first attempt when the error is one no retry can heal (a
        malformed URL, an unknown host, an untrusted certificate, an HTTP 4xx answer).
        Returns the session name. When ``url`` is a proxy's (see `Create
        Proxy`), that proxy makes the session's cuts.

        | Connect To Stream Service    ${TARGET_URL}
        | Connect To Stream Service    ${TARGET_URL}    session=second
        """
        url = reveal(url)
        wait = self.timeout_or_default(timeout)
        policy = self.policy
        s = StreamSession(session, url, self.session_adapter(session), policy, open_timeout=wait,
                          max_message_size=self.ctx.max_message_size,
                          ssl_context=self.ctx.target.ssl_context(url))
        proxy = next((p for p in self.ctx.proxies if p.serves(url)), None)
        if proxy is not None:  # a failure then names the service behind the proxy too
            s.via = f" through proxy {proxy.name!r} in front of {mask_url(proxy.target)}"
        self.ctx.stream_sessions.add(session, s)  # a name in use fails here, before connecting
        worst = wait * policy.limit + sum(policy.ceiling(n) for n in range(2, policy.limit + 1)) + 5
        try:
            log = self.run(s.connect(), f"session {session!r} to connect", worst, target=url)
        except BaseException as exc:
            self.ctx.stream_sessions.pop(session)
            if isinstance(exc, RetriesExhausted):
                self._last_failed_session = s
                logger.info(attempts_table(s.name, s.retry_logs[-1]), html=True)
            raise
        if proxy is not None:
            s.cutter = lambda _conn: proxy.reset_connections()
        logger.info(f"Session {session!r} connected to {s.masked_url} after {len(log.attempts)} "
                    f"attempt(s), adapter {s.adapter.name}"
                    f"{f', cut by proxy {proxy.name!r}' if proxy is not None else ''}.")
        return session

    @keyword(tags=[TAG])
    def start_stream(
        self,
        name: str,
        kind: str = "text",
        size: int = 16384,
        chunk_size: int = 1024,
        seed: int = 0,
        interval: timedelta = timedelta(0),
        window: timedelta | None = None,
        components: list[str] | None = None,
        session: str = "main",
        cut_after: int = 0,
    ) -> str:
        """Asks the service for a stream and returns its name once accepted.

        ``kind`` is ``text``, ``json`` (a document with a schema) or ``multipart``
        (``components`` as ``name:kind`` items, kinds ``text``, ``json``, ``code``).
        ``size`` and ``chunk_size`` are bytes; ``seed`` makes the content reproducible;
        ``interval`` paces the chunks (so a stream can be cut mid-way); ``window`` asks for
        a resume window. ``cut_after`` (chunks, 0: none) cuts the connection the moment that
        chunk arrives, armed before the request is sent: unlike `Cut Connection After Chunks`
        or `Receive Streams With Cuts` called afterwards, no chunk can slip by first. SKIPs
        when the service does not know the request at all.

        | Start Stream    answer    kind=json    size=50000    chunk_size=1000    interval=5 ms
        """
        s = self._session(session)
        parts = None
        if components:
            parts = [tuple(c.split(":", 1)) if ":" in c else (c, "text") for c in components]
        request = StreamRequest(kind, int(size), int(chunk_size), int(seed),
                                interval.total_seconds() * 1000,
                                None if window is None else window.total_seconds() * 1000,
                                parts)  # type: ignore[arg-type]
        self.skip_unless_expressible(s.adapter, request)
        wait = self.ctx.timeout
        try:
            stream = self.run(s.start(name, request, wait, int(cut_after) or None),
                              f"stream {name!r} to start", wait + 1, target=s.url)
        except StreamRefused as exc:
            self.skip_if_unsupported(exc)
            raise
        logger.info(f"Stream {name!r} started: {kind}, {size} bytes in chunks of {chunk_size}, "
                    f"one every {interval.total_seconds() * 1000:g} ms.")
        return stream.name

    @keyword(tags=[TAG])
    def cut_connection_after_chunks(self, stream: str, count: int,
                                    timeout: timedelta | None = None) -> int:
        """Cuts the stream's connection the moment its ``count``-th chunk arrives.

        The cut is an abort (no close handshake); chunks still in flight are lost, as in a
        real network failure. Returns the last contiguous seq received.
        """
        s, tracked = self._stream(stream)
        wait = self.timeout_or_default(timeout)
        last = self.run(s.cut_after_chunks(stream, int(count), wait), f"{count} chunks of {stream!r}",
                        wait + 1, target=s.url)
        if last is None:
            raise ResilienceFailure(
                f"Stream {stream!r} did not reach {count} chunks within {wait:.3f} s "
                f"({tracked.assembly.received} received) at {s.masked_url}.")
        logger.info(f"Cut the connection of stream {stream!r} after seq {last}.")
        return last

    @keyword(tags=[TAG])
    def cut_stream_connection(self, session: str = "main") -> None:
        """Cuts the session's connection now (abort, no close handshake)."""
        self.call(self._session(session).cut)

    @keyword(tags=[TAG])
    def reconnect_and_resume_streams(self, session: str = "main", timeout: timedelta | None = None,
                                     away: timedelta = timedelta(0)) -> None:
        """Reconnects (retry policy) and resumes every unfinished stream of the session.

        ``away`` keeps the client disconnected that long first: the events the service emits
        meanwhile are what the resume must replay (the time is not counted as reconnect
        time). Fails when the service refuses a resume, naming the stream and the error
        code, or (Socket.IO) when it did not recover the session, naming the lost seqs.
        """
        s = self._session(session)
        wait = self.timeout_or_default(timeout)
        self.run(s.resume(wait, away.total_seconds()), f"session {session!r} to reconnect and resume",
                 self._recovery_timeout(wait) + away.total_seconds(), target=s.url)
        if s.connection is not None and s.connection.handshake is not None:
            logger.info(f"Session {session!r} reconnected: {s.connection.handshake.detail}.")

    @keyword(tags=[TAG])
    def wait_until_streams_complete(self, *streams: str, timeout: timedelta | None = None) -> None:
        """Waits until every named stream has ended and all its chunks are in."""
        wait = self.timeout_or_default(timeout)
        for name in streams:
            s, tracked = self._stream(name)
            if not self.run(s.wait_complete([name], wait), f"stream {name!r} to complete",
                            wait + 1, target=s.url):
                raise ResilienceFailure(progress(s, "did not complete", [tracked], wait))

    @keyword(tags=[TAG])
    def receive_streams_with_cuts(
        self,
        *streams: str,
        every_chunks: int = 0,
        every: timedelta | None = None,
        max_cuts: int = 1000,
        timeout: timedelta | None = None,
    ) -> int:
        """Receives the streams to the end, cutting and resuming again and again.

        Cuts after every ``every_chunks`` chunks, or every ``every`` (time), at most
        ``max_cuts`` times; returns the number of cuts made.

        | ${cuts} =    Receive Streams With Cuts    big    every_chunks=64
        | ${cuts} =    Receive Streams With Cuts    answer    every=200 ms
        """
        s, _ = self._stream(streams[0])
        wait = self.timeout_or_default(timeout)
        every_s = every.total_seconds() if every is not None else None
        cuts = self.run(
            receive_with_cuts(s, list(streams), int(every_chunks) or None, every_s, int(max_cuts), wait),
            f"streams {', '.join(streams)} to complete with cuts", wait + 5, target=s.url)
        logger.info(f"Streams {', '.join(streams)} completed after {cuts} cut(s).")
        return cuts

    # -- refusals ------------------------------------------------------------------------------------

    @keyword(tags=[TAG])
    def wait_out_the_resume_window(self, stream: str, margin: timedelta = timedelta(milliseconds=250)) -> None:
        """Waits until the stream's resume window (as the service announced it) has passed since its last cut.

        Passing time *is* the condition under test here; the wait is measured from the cut
        on the monotonic clock.
        """
        _, tracked = self._stream(stream)
        if not tracked.recoveries:
            raise ResilienceFailure(f"Stream {stream!r} was never cut; its resume window has not started.")
        window_ms = tracked.request.window_ms
        if window_ms is None:
            raise ResilienceFailure(f"Stream {stream!r} was started without a window; give one to Start Stream.")
        until = tracked.recoveries[-1].cut_at + window_ms / 1000 + margin.total_seconds()
        self.run(asyncio.sleep(max(0.0, until - time.monotonic())),
                 f"the resume window of {stream!r} to pass", until - time.monotonic() + 2)

    @keyword(tags=[TAG, "Assertion"])
    def stream_resume_should_be_refused(self, stream: str, *codes: str, session: str = "main",
                                        criterion: str = "") -> str:
        """Reconnects and resumes; passes only if the service refuses with one of ``codes``.

        Fails if the resume is accepted or if any chunk of the stream arrives on the new
        connection (silent partial data). Returns the error code received.

        | Stream Resume Should Be Refused    answer    window-expired    unknown-stream
        """
        s = self._session(session)
        _, tracked = self._stream(stream)
        before = tracked.assembly.received
        wait = self.ctx.timeout
        try:
            self.run(s.resume(wait), f"the resume of {stream!r} to be answered",
                     self._recovery_timeout(wait), target=s.url)
        except StreamRefused as exc:
            code = exc.refusal.code
        else:
            raise ResilienceFailure(f"Resuming stream {stream!r} was accepted; expected an explicit "
                                    f"refusal ({' or '.join(codes)}).")
        leaked = tracked.assembly.received - before
        wrong_code = "" if code in codes else (
            f"Resuming stream {stream!r} was refused with {code!r}; expected "
            f"{' or '.join(repr(c) for c in codes)}.")
        figures = [Figure(f"{stream}: chunks delivered after the refusal", leaked, "chunks", 0, "==",
                          criterion, note=f"error code {code}")]
        self.judge(figures, f"Refused resume of {stream!r}",
                   wrong_code or f"Stream {stream!r}: {leaked} chunk(s) arrived despite the refusal.")
        if wrong_code:
            raise ResilienceFailure(wrong_code)
        return code

    @keyword(tags=[TAG, "Assertion"])
    def resume_of_unknown_stream_should_be_refused(self, session: str = "main", criterion: str = "") -> str:
        """Resumes a stream id that never existed; passes only on an ``unknown-stream`` error.

        Only the id is made up: the resume carries the epoch the service announced (learnt
        from a one-byte stream if none was started on the session yet), so a strict service
        that refuses a resume without an epoch as ``epoch-changed`` is not blamed for it.
        """
        s = self._session(session)
        if s.adapter.resumes_connection:
            raise SkipExecution(f"The {s.adapter.name} streams resume a connection, not a stream by its id: "
                                "there is no unknown stream to ask for.")
        wait = self.ctx.timeout
        try:
            answer = self.run(ask_resume_of(s, secrets.token_urlsafe(18), wait),
                              "the answer to resuming an unknown stream", 2 * wait + 1, target=s.url)
        except StreamRefused as exc:  # the epoch could not be learnt: no stream would start
            self.skip_if_unsupported(exc)
            raise
        ok = isinstance(answer, Refused) and answer.code == "unknown-stream"
        said = f"answered with {answer}" if answer is not None else f"no answer within {wait:.3f} s"
        figures = [Figure("unknown stream refused with unknown-stream", float(ok), "", 1, "==",
                          criterion, note=f"The service {said}.")]
        self.judge(figures, "Unknown stream", f"Resuming an unknown stream at {s.masked_url} got "
                                              f"{said}; expected error 'unknown-stream'.")
        return "unknown-stream"

    # -- reporting ------------------------------------------------------------------------------------

    @keyword(tags=[TAG])
    def log_stream_resume_report(self, recovery_bound: timedelta | None = None) -> None:
        """Logs, per stream, the resume chart (SVG) and a table of every recovery.

        The chart shows each chunk by seq over time (live, replayed after a resume,
        duplicate), with the cuts, reconnects and first resumed chunks marked, and
        ``recovery_bound`` drawn after the first cut.
        """
        bound = None if recovery_bound is None else recovery_bound.total_seconds()
        for session in self.ctx.stream_sessions:
            for tracked in session.streams.values():
                logger.info(stream_resume_chart(tracked, bound), html=True)
                if tracked.recoveries:
                    logger.info(recovery_table(tracked), html=True)
            if session.unexpected:
                logger.info(f"Session {session.name!r}: unexpected messages: "
                            f"{'; '.join(session.unexpected[:5])}")

    @keyword(tags=[TAG])
    def close_stream_sessions(self) -> None:
        """Closes every session's connection and forgets the sessions and streams."""
        sessions = self.ctx.stream_sessions.clear()
        if sessions:
            self.run(close_sessions(sessions), "stream connections to close", timeout=10)
        self._last_failed_session = None

