"""The stream-resume view: the stream keywords alone, as ``wsresilience.StreamResume``."""

from __future__ import annotations

from datetime import timedelta

from robot.api.deco import library

from wsresilience import __version__
from wsresilience.components.base import ResilienceLibrary
from wsresilience.components.streams import StreamKeywords


@library(scope="SUITE", version=__version__, doc_format="ROBOT")
class StreamResume(ResilienceLibrary):
    """Tests that a streamed response survives connection cuts: resumed, whole, in order.

    The service streams a response as numbered chunks (``seq`` 1, 2, 3 …) and ends it with
    the chunk count and the SHA-256 of the whole payload. This library receives such streams
    over real connections, cuts the connection on purpose, reconnects with exponential
    backoff, resumes each stream from its last received chunk, and verifies what it
    assembled: no gap, no duplicate, in order, the declared hash, the JSON schema, every
    component. It times each recovery: *reconnect* (cut → connected), *resume* (connected →
    first resumed chunk) and *total* (cut → stream complete).

    %TOC%

    = Sessions and streams =

    A *session* is one client: one connection at a time, any number of streams on it.
    `Connect To Stream Service` opens one (named ``main`` unless you say otherwise);
    streams have names you choose in `Start Stream`. A cut drops the session's connection
    abruptly (no close handshake; what was in flight is lost); `Reconnect And Resume
    Streams` opens a new one and resumes every unfinished stream on it.

    = Cuts through a proxy =

    A session connected to the URL of a fault proxy the library made (`Create Proxy` in
    the network-fault keywords, or the deprecated `Start Degraded Network Proxy`) is cut
    *by that proxy*: a TCP reset from the network, not a client abort.

    = Retry policy =

    Reconnecting retries with exponential backoff and full jitter: before attempt *n* the
    client waits a random delay in ``[0, min(cap, base × factor^(n-2))]``, drawn from a
    seeded generator so the schedule is reproducible. After ``limit`` attempts the keyword
    fails naming the attempts and the last error. An error no retry can heal (a malformed
    URL, an unknown host, an untrusted certificate, an HTTP 4xx answer to the upgrade)
    stops it at the first attempt, naming that error. See `Set Stream Retry Policy`.

    = Protocol adapters =

    The library speaks to the service through an adapter: ``reference`` (the bundled
    reference server's protocol, the default) or the dotted path of your own
    ``StreamAdapter`` subclass (docs/adapters.md; the API is public in ``wsresilience.extend``).
    Choose it at import (``Library  wsresilience.StreamResume  adapter=mypkg.MyAdapter``) or
    with `Use Stream Protocol Adapter`. A service that answers the start request with
    ``unknown-type`` does not stream at all: tests using it SKIP with that reason.

    = Evidence =

    Judging keywords log each figure beside its threshold and margin. `Log Stream Resume
    Report` logs, per stream, a chart of every chunk by seq over time (live, replayed after
    a resume, duplicate) with the cuts, the reconnects, the first resumed chunks and the
    recovery bound marked, and a table of every recovery.

    = Example =

    | Connect To Stream Service    ${URL}
    | Start Stream    answer    kind=text    size=20000    chunk_size=500    interval=10 ms
    | Cut Connection After Chunks    answer    10
    | Reconnect And Resume Streams
    | Wait Until Streams Complete    answer
    | Stream Should Be Intact    answer

    = This view and the whole library =

    This is the stream-resume view: the stream keywords alone, on their own context.
    ``wsresilience.WebSocketResilience`` has every keyword of every concern on one shared
    context (one timeout, one set of proxies and connections); import it instead when a
    suite needs more than one concern.
    """

    COMPONENTS = (StreamKeywords,)

    def __init__(self, timeout: timedelta = timedelta(seconds=10), adapter: str = "reference") -> None:
        """``timeout`` is the default for every wait; ``adapter`` picks the protocol
        (``reference`` or the dotted path of a ``StreamAdapter`` subclass)."""
        super().__init__(timeout)
        self.component(StreamKeywords).select_adapter(adapter)
