"""Mid-stream disconnection and resume testing over real WebSocket connections."""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
import tracemalloc
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import psutil
from robot.api import SkipExecution, logger
from robot.api.deco import keyword, library

from keywords import __version__
from keywords.core.streams.backoff import BackoffPolicy
from keywords.errors import RetriesExhausted
from keywords.core.evidence.figures import Figure, figure_table, html_table
from keywords.core.runtime.library import LoopLibrary
from keywords.core.runtime.loop import gather_settled
from keywords.core.evidence.resume import resume_timeline_svg
from keywords.core.streams.adapter import UNSUPPORTED, StreamRequest, load_adapter
from keywords.core.streams.session import StreamSession, TrackedStream
from keywords.errors import StreamRefused
from keywords.core.runtime.timeouts import TimeLike, seconds

try:  # the fault proxy is optional: 002.9 SKIPs without it
    from faultproxy.proxy import FaultProxy
except ImportError:  # pragma: no cover - depends on the installation
    FaultProxy = None  # type: ignore[assignment,misc]


@library(scope="SUITE", version=__version__, doc_format="ROBOT")
class StreamResume(LoopLibrary):
    """Tests that a streamed response survives connection cuts: resumed, whole, in order.

    The service streams a response as numbered chunks (``seq`` 1, 2, 3 …) and ends it with
    the chunk count and the SHA-256 of the whole payload. This library receives such streams
    over real connections, cuts the connection on purpose, reconnects with exponential
    backoff, resumes each stream from its last received chunk, and verifies what it
    assembled: no gap, no duplicate, in order, the declared hash, the JSON schema, every
    component. It times each recovery: *reconnect* (cut → connected), *resume* (connected →
    first resumed chunk) and *total* (cut → stream complete).

    = Sessions and streams =

    A *session* is one client: one connection at a time, any number of streams on it.
    `Connect To Stream Service` opens one (named ``main`` unless you say otherwise);
    streams have names you choose in `Start Stream`. A cut drops the session's connection
    abruptly (no close handshake; what was in flight is lost); `Reconnect And Resume
    Streams` opens a new one and resumes every unfinished stream on it.

    = Retry policy =

    Reconnecting retries with exponential backoff and full jitter: before attempt *n* the
    client waits a random delay in ``[0, min(cap, base × factor^(n-2))]``, drawn from a
    seeded generator so the schedule is reproducible. After ``limit`` attempts the keyword
    fails naming the attempts and the last error. See `Set Stream Retry Policy`.

    = Protocol adapters =

    The library speaks to the service through an adapter: ``reference`` (the bundled
    reference server's protocol, the default) or the dotted path of your own
    ``StreamAdapter`` subclass (docs/adapters.md). Choose it at import
    (``Library  keywords.StreamResume  adapter=mypkg.MyAdapter``) or with `Use Stream
    Protocol Adapter`. A service that answers the start request with ``unknown-type``
    does not stream at all: tests using it SKIP with that reason.

    = Evidence =

    Judging keywords log each figure beside its threshold and margin. `Log Stream Resume
    Report` logs, per stream, an SVG timeline (chunks over time, the cuts, the reconnects,
    the replay) and a table of every recovery.

    = Example =

    | Connect To Stream Service    ${URL}
    | Start Stream    answer    kind=text    size=20000    chunk_size=500    interval=10 ms
    | Cut Connection After Chunks    answer    10
    | Reconnect And Resume Streams
    | Wait Until Streams Complete    answer
    | Stream Should Be Intact    answer
    """

    def __init__(self, timeout: TimeLike = timedelta(seconds=10), adapter: str = "reference") -> None:
        """``timeout`` is the default for every wait; ``adapter`` picks the protocol."""
        super().__init__(timeout)
        self._adapter = load_adapter(adapter)
        self._policy = BackoffPolicy()
        self._sessions: dict[str, StreamSession] = {}
        self._reserved: list[socket.socket] = []
        self._memory_baseline: tuple[int, int] | None = None
        self._last_failed_session: StreamSession | None = None
        self._proxy: FaultProxy | None = None

    # -- bookkeeping ------------------------------------------------------------------------

    def _cleanup(self) -> None:
        if self._loop is not None and self._sessions:
            self._close_sessions(list(self._sessions.values()))
        self._sessions.clear()
        self._stop_proxy()
        for sock in self._reserved:
            sock.close()
        self._reserved.clear()
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        super()._cleanup()

    def _close_sessions(self, sessions: list[StreamSession]) -> None:
        async def close_all() -> None:
            await gather_settled(*(s.close() for s in sessions))

        self._run(close_all(), "stream connections to close", timeout=10)

    def _session(self, name: str) -> StreamSession:
        try:
            return self._sessions[name]
        except KeyError:
            known = ", ".join(self._sessions) or "none"
            raise ValueError(f"No stream session named {name!r}; open ones: {known}.") from None

    def _stream(self, name: str) -> tuple[StreamSession, TrackedStream]:
        for session in self._sessions.values():
            if name in session.streams:
                return session, session.streams[name]
        known = ", ".join(n for s in self._sessions.values() for n in s.streams) or "none"
        raise ValueError(f"No stream named {name!r}; known streams: {known}.")

    # -- configuration ---------------------------------------------------------------------------

    @keyword
    def use_stream_protocol_adapter(self, adapter: str) -> str:
        """Selects the protocol adapter for sessions opened from now on; returns the old one.

        ``adapter`` is ``reference`` or a dotted path to a ``StreamAdapter`` subclass.

        | Use Stream Protocol Adapter    mycompany.streams.SseBridgeAdapter
        """
        old = self._adapter.name
        self._adapter = load_adapter(adapter)
        logger.info(f"Stream protocol adapter: {self._adapter.name} (was {old}).")
        return old

    @keyword
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
        self._policy = BackoffPolicy(base.total_seconds(), float(factor), cap.total_seconds(),
                                     int(limit), jitter.strip().lower(), int(seed))  # type: ignore[arg-type]
        return self._policy.describe()

    @keyword
    def get_unreachable_service_url(self) -> str:
        """Returns a ``ws://`` URL on loopback where nothing listens (connections refused).

        The port is held (bound, never listening) until the suite ends, so no other
        process can take it meanwhile.
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._reserved.append(sock)
        return f"ws://127.0.0.1:{sock.getsockname()[1]}/"

    # -- connecting and streaming ------------------------------------------------------------------

    @keyword
    def connect_to_stream_service(self, url: str, session: str = "main",
                                  timeout: timedelta | None = None) -> str:
        """Opens a session's connection to ``url``, retrying per the retry policy.

        Fails after the policy's last attempt with a message naming the attempts and the
        last error. Returns the session name.

        | Connect To Stream Service    ${TARGET_URL}
        | Connect To Stream Service    ${TARGET_URL}    session=second
        """
        if session in self._sessions:
            raise ValueError(f"A stream session named {session!r} is already open.")
        wait = seconds(timeout, self._timeout)
        s = StreamSession(session, url, self._adapter, self._policy, open_timeout=wait)
        worst = wait * self._policy.limit + sum(self._policy.ceiling(n) for n in
                                                 range(2, self._policy.limit + 1)) + 5
        try:
            log = self._run(s.connect(), f"session {session!r} to connect", worst, target=url)
        except RetriesExhausted:
            self._last_failed_session = s
            self._log_attempts(s)
            raise
        if self._proxy is not None and urlsplit(url).port == self._proxy.port:
            s.cutter = self._cut_through_proxy
        self._sessions[session] = s
        logger.info(f"Session {session!r} connected to {s._target} after {len(log.attempts)} "
                    f"attempt(s), adapter {self._adapter.name}.")
        return session

    @keyword
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
        try:
            stream = self._run(s.start(name, request, self._timeout, int(cut_after) or None),
                               f"stream {name!r} to start", self._timeout + 1, target=s.url)
        except StreamRefused as exc:
            if exc.refusal.code in UNSUPPORTED:
                raise SkipExecution(f"The target does not offer resumable streams: it answered "
                                    f"the start request with {exc.refusal.code!r}.") from None
            raise
        logger.info(f"Stream {name!r} started: {kind}, {size} bytes in chunks of {chunk_size}, "
                    f"one every {interval.total_seconds() * 1000:g} ms.")
        return stream.name

    @keyword
    def cut_connection_after_chunks(self, stream: str, count: int,
                                    timeout: timedelta | None = None) -> int:
        """Cuts the stream's connection the moment its ``count``-th chunk arrives.

        The cut is an abort (no close handshake); chunks still in flight are lost, as in a
        real network failure. Returns the last contiguous seq received.
        """
        s, tracked = self._stream(stream)
        wait = seconds(timeout, self._timeout)

        async def cut() -> int:
            tracked.cut_after = int(count)
            if tracked.assembly.received >= int(count):
                s.cut("after chunk")
            ok = await s.connection.wait_for(lambda: s.connection.cut, wait)  # type: ignore[union-attr]
            if not ok:
                raise AssertionError(
                    f"Stream {stream!r} did not reach {count} chunks within {wait:.3f} s "
                    f"({tracked.assembly.received} received) at {s._target}.")
            return tracked.assembly.last_contiguous

        last = self._run(cut(), f"{count} chunks of {stream!r}", wait + 1, target=s.url)
        logger.info(f"Cut the connection of stream {stream!r} after seq {last}.")
        return last

    @keyword
    def cut_stream_connection(self, session: str = "main") -> None:
        """Cuts the session's connection now (abort, no close handshake)."""
        s = self._session(session)
        self._call(s.cut)

    @keyword
    def reconnect_and_resume_streams(self, session: str = "main",
                                     timeout: timedelta | None = None) -> None:
        """Reconnects (retry policy) and resumes every unfinished stream of the session.

        Fails when the service refuses a resume, naming the stream and the error code.
        """
        s = self._session(session)
        wait = seconds(timeout, self._timeout)
        self._run(s.resume(wait), f"session {session!r} to reconnect and resume",
                  wait * (self._policy.limit + 1) + 5, target=s.url)

    @keyword
    def wait_until_streams_complete(self, *streams: str, timeout: timedelta | None = None) -> None:
        """Waits until every named stream has ended and all its chunks are in."""
        wait = seconds(timeout, self._timeout)
        for name in streams:
            s, tracked = self._stream(name)
            if not self._run(s.wait_complete([name], wait), f"stream {name!r} to complete",
                             wait + 1, target=s.url):
                raise AssertionError(s._progress("did not complete", [tracked], wait))

    @keyword
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
        wait = seconds(timeout, self._timeout)
        every_s = seconds(every, 0.0) if every is not None else None
        cuts = self._run(
            s.run_with_cuts(list(streams), int(every_chunks) or None, every_s, int(max_cuts), wait),
            f"streams {', '.join(streams)} to complete with cuts", wait + 5, target=s.url)
        logger.info(f"Streams {', '.join(streams)} completed after {cuts} cut(s).")
        return cuts

    # -- verifying ------------------------------------------------------------------------------------

    @keyword
    def stream_should_be_intact(self, stream: str, criterion: str = "") -> None:
        """Verifies the assembled stream: every seq once, in order, size, SHA-256, schema, components.

        Fails naming the first missing or duplicated seq, the hash mismatch, the schema
        error or the missing component.
        """
        _, tracked = self._stream(stream)
        a = tracked.assembly
        problems = a.problems()
        declared = a.end.chunks if a.end else float("nan")
        figures = [
            Figure(f"{stream}: distinct chunks assembled", a.received, "chunks", declared, "==",
                   criterion),
            Figure(f"{stream}: chunks missing", (a.end.chunks - a.received) if a.end else float("nan"),
                   "chunks", 0, "==", criterion),
            Figure(f"{stream}: conflicting repeats", len(a.conflicts), "chunks", 0, "==", criterion),
            Figure(f"{stream}: problems found (hash, order, size, schema, components)",
                   len(problems), "", 0, "==", criterion, note="; ".join(problems)),
        ]
        logger.info(figure_table(figures, f"Integrity of stream {stream!r}"), html=True)
        logger.info(f"Stream {stream!r}: {a.received} chunks, {len(a.payload())} bytes assembled, "
                    f"{len(a.duplicates)} repeat(s) dropped, over {len(tracked.recoveries)} cut(s).")
        a.verify(stream)

    @keyword
    def resume_should_continue_right_after_the_last_chunk(self, stream: str, criterion: str = "") -> None:
        """Verifies on the wire that every resume replayed from last seq + 1, and nothing twice.

        `Stream Should Be Intact` drops exact repeats; this keyword does not forgive them:
        the protocol promises a replay that starts right after the client's last seq.
        """
        _, tracked = self._stream(stream)
        duplicates = tracked.assembly.duplicates
        resumes = [r for r in tracked.recoveries if r.first_seq is not None]
        figures = [
            Figure(f"{stream}: chunks delivered twice", len(duplicates), "chunks", 0, "==", criterion,
                   note=f"first: seq {duplicates[0]}" if duplicates else ""),
            Figure(f"{stream}: resumes not starting at last seq + 1",
                   len(tracked.resume_violations), "resumes", 0, "==", criterion,
                   note="; ".join(tracked.resume_violations[:3])),
            Figure(f"{stream}: resumes observed", len(resumes), "resumes", 1, ">=", criterion),
        ]
        logger.info(figure_table(figures, f"Resume position of stream {stream!r}"), html=True)
        failed = [f for f in figures if not f.passed]
        if tracked.resume_violations:
            raise AssertionError(f"Stream {stream!r}: {tracked.resume_violations[0]}.")
        if duplicates:
            raise AssertionError(f"Stream {stream!r}: first duplicated seq {duplicates[0]} "
                                 f"({len(duplicates)} chunk(s) delivered twice).")
        if failed:
            raise AssertionError(f"Stream {stream!r} was never resumed: {failed[0].describe()}.")

    @keyword
    def streams_should_resume_at_their_own_positions(self, *streams: str, criterion: str = "") -> None:
        """Checks that each stream's last resume was answered from its own last seq + 1.

        With several streams on one connection, each has its own position; a service that
        mixes them up, or resumes all from one seq, fails here.
        """
        rows = []
        figures = []
        for name in streams:
            _, tracked = self._stream(name)
            if not tracked.recoveries:
                raise AssertionError(f"Stream {name!r} was never cut, so it never resumed.")
            r = tracked.recoveries[-1]
            announced = float("nan") if r.resumed_from is None else r.resumed_from
            rows.append([name, r.last_seq, r.resumed_from if r.resumed_from is not None else "—",
                         r.first_seq if r.first_seq is not None else "—"])
            figures.append(Figure(f"{name}: resumed from seq", announced, "seq", r.last_seq + 1, "==",
                                  criterion, note=f"own last seq {r.last_seq}"))
        logger.info(html_table(["stream", "last seq at the cut", "resumed from", "first seq replayed"],
                               rows, "Resume positions"), html=True)
        logger.info(figure_table(figures, "Resume positions"), html=True)
        failed = [f for f in figures if not f.passed]
        if failed:
            raise AssertionError(f"Expected {failed[0].describe()}.")

    @keyword
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
        recs = tracked.recoveries
        if not recs:
            raise AssertionError(f"Stream {stream!r} was never cut, so there is no recovery to time.")
        nan = float("nan")

        def worst(values: list[float | None]) -> float:
            return max((v for v in values if v is not None), default=nan) * 1000

        figures = [
            Figure(f"{stream}: reconnect time (max of {len(recs)})", worst([r.reconnect_s for r in recs]),
                   "ms", reconnect.total_seconds() * 1000, "<", criterion),
            Figure(f"{stream}: resume time (max)", worst([r.resume_s for r in recs]), "ms",
                   resume.total_seconds() * 1000, "<", criterion),
            Figure(f"{stream}: total recovery (max)", worst([
                None if r.completed_at is None else r.completed_at - r.cut_at for r in recs]),
                "ms", total.total_seconds() * 1000, "<", criterion,
                note="cut to stream complete, including the chunks still to be produced"),
        ]
        logger.info(figure_table(figures, f"Recovery times of stream {stream!r}"), html=True)
        failed = [f for f in figures if not f.passed]
        if failed:
            raise AssertionError(f"Stream {stream!r}: expected {failed[0].describe()}.")

    @keyword
    def wait_out_the_resume_window(self, stream: str, margin: timedelta = timedelta(milliseconds=250)) -> None:
        """Waits until the stream's resume window (as the service announced it) has passed since its last cut.

        Passing time *is* the condition under test here; the wait is measured from the cut
        on the monotonic clock.
        """
        s, tracked = self._stream(stream)
        if not tracked.recoveries:
            raise AssertionError(f"Stream {stream!r} was never cut; its resume window has not started.")
        window_ms = tracked.request.window_ms
        if window_ms is None:
            raise AssertionError(f"Stream {stream!r} was started without a window; give one to Start Stream.")
        until = tracked.recoveries[-1].cut_at + window_ms / 1000 + margin.total_seconds()

        async def wait() -> None:
            await asyncio.sleep(max(0.0, until - time.monotonic()))

        self._run(wait(), f"the resume window of {stream!r} to pass", until - time.monotonic() + 2)

    @keyword
    def resume_should_be_refused(self, stream: str, *codes: str, session: str = "main",
                                 criterion: str = "") -> str:
        """Reconnects and resumes; passes only if the service refuses with one of ``codes``.

        Fails if the resume is accepted or if any chunk of the stream arrives on the new
        connection (silent partial data). Returns the error code received.

        | Resume Should Be Refused    answer    window-expired    unknown-stream
        """
        s = self._session(session)
        _, tracked = self._stream(stream)
        before = tracked.assembly.received
        try:
            self._run(s.resume(self._timeout), f"the resume of {stream!r} to be answered",
                      self._timeout * (self._policy.limit + 1) + 5, target=s.url)
        except StreamRefused as exc:
            code = exc.refusal.code
        else:
            raise AssertionError(f"Resuming stream {stream!r} was accepted; expected an explicit "
                                 f"refusal ({' or '.join(codes)}).")
        leaked = tracked.assembly.received - before
        figures = [Figure(f"{stream}: chunks delivered after the refusal", leaked, "chunks", 0, "==",
                          criterion, note=f"error code {code}")]
        logger.info(figure_table(figures, f"Refused resume of {stream!r}"), html=True)
        if code not in codes:
            raise AssertionError(f"Resuming stream {stream!r} was refused with {code!r}; expected "
                                 f"{' or '.join(repr(c) for c in codes)}.")
        if leaked:
            raise AssertionError(f"Stream {stream!r}: {leaked} chunk(s) arrived despite the refusal.")
        return code

    @keyword
    def resume_of_unknown_stream_should_be_refused(self, session: str = "main", criterion: str = "") -> str:
        """Resumes a stream id that never existed; passes only on an ``unknown-stream`` error."""
        s = self._session(session)
        fake = secrets.token_urlsafe(18)
        message = s.adapter.resume_message(fake, 3, "")

        async def ask() -> str:
            assert s.connection is not None
            s.unexpected.clear()
            await s.connection.send(message)
            ok = await s.connection.wait_for(lambda: bool(s.unexpected), self._timeout)
            return s.unexpected[-1] if ok else ""

        answer = self._run(ask(), "the answer to resuming an unknown stream", self._timeout + 1,
                           target=s.url)
        ok = "unknown-stream" in answer
        logger.info(figure_table([Figure("unknown stream refused with unknown-stream", float(ok), "",
                                         1, "==", criterion, note=answer)], "Unknown stream"), html=True)
        if not ok:
            raise AssertionError(f"Resuming an unknown stream got {answer or 'no answer'}; "
                                 "expected an unknown-stream error.")
        return "unknown-stream"

    @keyword
    def retry_delays_should_follow_the_policy(self, tolerance: timedelta = timedelta(milliseconds=30),
                                              criterion: str = "") -> None:
        """Compares each measured delay between reconnect attempts with the policy's schedule.

        Uses the last connect or resume of any session (failed ones included). Each delay
        must be within ``tolerance`` of the seeded schedule and within ``[0, ceiling]``.
        """
        session = self._last_failed_session or next(reversed(self._sessions.values()), None)
        if session is None or not session.retry_logs:
            raise AssertionError("No reconnect attempts were made yet.")
        log = session.retry_logs[-1]
        planned = log.planned_delays
        measured = log.measured_delays
        rows = []
        figures = []
        for n, (p, m) in enumerate(zip(planned, measured), start=2):
            ceiling = log.policy.ceiling(n)
            rows.append([n, round(ceiling * 1000, 1), round(p * 1000, 1), round(m * 1000, 1)])
            figures.append(Figure(f"delay before attempt {n}", m * 1000, "ms", p * 1000, "within",
                                  criterion, tolerance.total_seconds() * 1000,
                                  note=f"planned {p * 1000:.1f} ms of ceiling {ceiling * 1000:.0f} ms"))
        logger.info(html_table(["attempt", "ceiling ms", "planned ms", "measured ms"], rows,
                               f"Backoff schedule: {log.policy.describe()}"), html=True)
        logger.info(figure_table(figures, "Measured retry delays"), html=True)
        out_of_bounds = [n for n, p in enumerate(planned, start=2) if not 0 <= p <= log.policy.ceiling(n)]
        if out_of_bounds:
            raise AssertionError(f"Planned delay before attempt {out_of_bounds[0]} is outside [0, ceiling].")
        failed = [f for f in figures if not f.passed]
        if failed:
            raise AssertionError(f"Retry delays do not follow the policy: {failed[0].describe()}.")
        if len(measured) + 1 != len(log.attempts) or not measured:
            raise AssertionError(f"Expected several attempts, saw {len(log.attempts)}.")

    def _log_attempts(self, session: StreamSession) -> None:
        log = session.retry_logs[-1]
        rows = [[a.number, round(a.delay * 1000, 1), a.error or "ok"] for a in log.attempts]
        logger.info(html_table(["attempt", "delay before (ms)", "error"], rows,
                               f"Connect attempts of session {session.name!r}"), html=True)

    # -- fault proxy ---------------------------------------------------------------------------------

    @keyword
    def start_degraded_network_proxy(
        self,
        upstream_url: str,
        latency: timedelta = timedelta(milliseconds=20),
        jitter: timedelta = timedelta(milliseconds=10),
        rate_kbps: int = 2000,
        seed: int = 0,
    ) -> str:
        """Starts the fault proxy in front of ``upstream_url`` and returns the URL to use instead.

        Both directions get ``latency`` ± ``jitter``; the server-to-client direction is
        capped at ``rate_kbps`` KB/s. Sessions connected through it are cut *by the proxy*
        (a TCP reset from the network, not a client abort). SKIPs when the ``faultproxy``
        package is not installed. The proxy stops at the end of the suite or with
        `Stop Degraded Network Proxy`.
        """
        if FaultProxy is None:
            raise SkipExecution("The fault proxy (package faultproxy) is not installed.")
        if self._proxy is not None:
            raise RuntimeError("A degraded network proxy is already running; stop it first.")
        parts = urlsplit(upstream_url)
        upstream = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'wss' else 80)}"
        lat, jit = round(latency.total_seconds() * 1000), round(jitter.total_seconds() * 1000)

        async def start() -> FaultProxy:
            proxy = FaultProxy("stream-resume", "127.0.0.1:0", upstream, seed=int(seed))
            await proxy.start()
            for stream in ("downstream", "upstream"):
                await proxy.add_toxic("latency", f"latency_{stream}", stream,
                                      attributes={"latency": lat, "jitter": jit})
            await proxy.add_toxic("bandwidth", "bandwidth_downstream", "downstream",
                                  attributes={"rate": int(rate_kbps)})
            return proxy

        self._proxy = self._run(start(), "the fault proxy to start", target=upstream_url)
        url = urlunsplit((parts.scheme, f"127.0.0.1:{self._proxy.port}", parts.path or "/",
                          parts.query, ""))
        logger.info(f"Fault proxy on port {self._proxy.port} in front of {upstream}: latency "
                    f"{lat} ± {jit} ms both ways, downstream capped at {rate_kbps} KB/s, seed {seed}.")
        return url

    async def _cut_through_proxy(self, conn: object) -> None:
        assert self._proxy is not None
        await self._proxy.reset_connections()

    @keyword
    def stop_degraded_network_proxy(self) -> None:
        """Stops the fault proxy (safe to repeat)."""
        self._stop_proxy()

    def _stop_proxy(self) -> None:
        if self._proxy is not None and self._loop is not None:
            proxy, self._proxy = self._proxy, None
            self._run(proxy.stop(), "the fault proxy to stop", timeout=10)

    # -- memory ----------------------------------------------------------------------------------------

    @keyword
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

    @keyword
    def client_memory_overhead_should_be_below(self, limit_mb: float, criterion: str = "") -> float:
        """Stops tracing; fails if the peak traced allocation since the start exceeded ``limit_mb``.

        Returns the overhead in MB.
        """
        if self._memory_baseline is None or not tracemalloc.is_tracing():
            raise AssertionError("Start Measuring Client Memory was not called.")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        base, rss0 = self._memory_baseline
        self._memory_baseline = None
        overhead = (peak - base) / 1e6
        rss_delta = (psutil.Process().memory_info().rss - rss0) / 1e6
        figure = Figure("client memory overhead (tracemalloc peak)", overhead, "MB", float(limit_mb), "<",
                        criterion, note=f"RSS grew {rss_delta:.1f} MB meanwhile (cross-check)")
        logger.info(figure_table([figure], "Client memory"), html=True)
        if not figure.passed:
            raise AssertionError(f"Expected {figure.describe()}.")
        return overhead

    # -- reporting ------------------------------------------------------------------------------------

    @keyword
    def log_stream_resume_report(self, recovery_bound: timedelta | None = None) -> None:
        """Logs, per stream, the resume timeline (SVG) and a table of every recovery."""
        for session in self._sessions.values():
            for tracked in session.streams.values():
                self._report(session, tracked, recovery_bound)
            if session.unexpected:
                logger.info(f"Session {session.name!r}: unexpected messages: "
                            f"{'; '.join(session.unexpected[:5])}")

    def _report(self, session: StreamSession, tracked: TrackedStream, bound: timedelta | None) -> None:
        a = tracked.assembly
        svg = resume_timeline_svg(
            f"Stream {tracked.name}: {a.received} chunks, {len(tracked.recoveries)} cut(s)",
            tracked.started_at, list(a.arrivals), [r.cut_at for r in tracked.recoveries],
            [r.connected_at for r in tracked.recoveries if r.connected_at is not None],
            None if bound is None else bound.total_seconds())
        logger.info(svg, html=True)

        def ms(v: float | None) -> object:
            return "—" if v is None else round(v * 1000, 2)

        rows = [[i, r.how, r.last_seq, r.attempts, ms(r.reconnect_s), ms(r.resume_s),
                 r.first_seq if r.first_seq is not None else "—",
                 ms(None if r.completed_at is None else r.completed_at - r.cut_at)]
                for i, r in enumerate(tracked.recoveries, start=1)]
        if rows:
            logger.info(html_table(["cut", "how", "last seq", "attempts", "reconnect ms", "resume ms",
                                    "first resumed seq", "total ms"], rows,
                                   f"Recoveries of stream {tracked.name!r}"), html=True)

    @keyword
    def close_stream_sessions(self) -> None:
        """Closes every session's connection and forgets the sessions and streams."""
        self._close_sessions(list(self._sessions.values()))
        self._sessions.clear()
        self._last_failed_session = None
