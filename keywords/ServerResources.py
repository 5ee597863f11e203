"""The server resources view: what the server holds, read from outside, as a library of its own."""

from __future__ import annotations

from robot.api.deco import library

from wsresilience import __version__
from wsresilience.components.base import ResilienceLibrary
from wsresilience.components.server_resources import ServerResourcesKeywords


@library(scope="SUITE", version=__version__, doc_format="ROBOT")
class ServerResources(ResilienceLibrary):
    """Probes the resources a WebSocket server holds, from outside, and checks it lets go.
    Connections, sessions, agents, tasks, memory and descriptors are read from whatever
    the target offers; counts must come back exactly, memory must not climb round after
    round.

    %TOC%

    = Probes =

    Two sources, whichever the target offers, configured once with `Configure Server
    Probes`:

    - a Prometheus text endpoint (``METRICS_URL``: ``ws_open_connections``,
      ``ws_authenticated_sessions``, ``ws_agent_instances``,
      ``ws_agent_instances_per_user_max``, ``ws_asyncio_tasks``,
      ``process_resident_memory_bytes``, ``process_open_fds``), read with
      prometheus_client's parser;
    - a local process id (``SERVER_PID``), sampled with psutil: TCP connections on the
      server's port, RSS, descriptors, threads.

    The metrics endpoint wins where both have a resource. Resource names in keywords:
    ``connections``, ``authenticated_sessions``, ``agents``, ``agents_per_user_max``,
    ``tasks``, ``rss_bytes``, ``fds``, ``threads``.

    = Connections and snapshots =

    `Get Open Connection Count` reads (and can assert) the server's open connections;
    `Open Connection Count Should Return To` waits for a baseline. `Take Resource
    Snapshot` and `Take Settled Resource Snapshot` record everything the target exposes;
    `Compare Resource Snapshots`, `Server Resources Should Return To` and `Server Resource
    Should Settle At` compare before and after. Counts are compared exactly.

    = The leak rule =

    A leak is growth that keeps going, per connection served. `Resource Growth Should
    Show No Leak` takes one snapshot before any load, one after each round, and the
    connections each round made. The first ``warmup_rounds`` are not judged (allocator
    arenas, caches). After them RSS is fitted with two straight segments over
    connections served, all judged rounds and their late half; the lower slope, what a
    leak keeps to the end, may not exceed ``rss_per_connection_max`` (default 12 KiB).
    A plateau passes: a V8 heap or an allocator that levels off has a falling late slope,
    and a slow warm-up ramp a low overall one. Counts (descriptors, tasks) are exact.
    `Take Settled Resource Snapshot` waits for every count, not just connections, so a
    descriptor about to be closed is not judged as kept.

    = Skips and failures =

    A check that needs a probe the target does not offer ends *SKIP with the reason*,
    never PASS; a probe that answered earlier and stops answering (the server died)
    *fails* the check.

    = This view =

    This is the server resources view: these keywords on a context of their own.
    ``wsresilience.WebSocketResilience`` has every keyword on one shared context, where the
    probe configured here also feeds the flapping sampler and agent checks.
    """

    COMPONENTS = (ServerResourcesKeywords,)
