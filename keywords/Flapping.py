"""The flapping view: many clients connecting and dropping, as a library of its own."""

from __future__ import annotations

from robot.api.deco import library

from wsresilience import __version__
from wsresilience.components.base import ResilienceLibrary
from wsresilience.components.flapping import FlappingKeywords


@library(scope="SUITE", version=__version__, doc_format="ROBOT")
class Flapping(ResilienceLibrary):
    """Flaps WebSocket clients and reads back how the server coped. A *flapping* client
    connects, holds the connection for a connected time, disconnects, waits a
    disconnected time, and does it again, like a phone on a bad network. Many clients flap
    at once. A healthy server accepts every reconnect, answers quickly, and keeps one
    agent per user.

    %TOC%

    = Flapping =

    `Flap Clients` runs C concurrent clients for K cycles each (source review: 100 ms connected,
    50 ms disconnected), with optional jitter from a seeded random generator, a
    ``graceful`` close handshake or an ``abort`` (TCP reset: SO_LINGER 0, no close frame),
    plain or authenticated with credentials from `ReferenceServer.Create Test User`. A
    cycle succeeds when the handshake completes, authentication (if any) is accepted, and
    the server keeps the connection for the connected time.

    = The run's figures =

    The run reports the success rate, handshake latency percentiles, the attempt rate
    (cycles/s) and failures by cause. `Get Connection Success Rate`, `Get Handshake
    Latency`, `Get Attempt Rate` and `Get Flapping Failures` read them back and, given an
    operator and an expected value, assert them, logging the figure beside its threshold:

    | Flap Clients    ${URL}    clients=10    cycles=50    connected=100 ms    disconnected=50 ms
    | Get Connection Success Rate    >=    99
    | Get Handshake Latency    p95    <    200

    = Server resources while flapping =

    When server probes are configured, a background thread samples the server's
    resources while clients flap (``sample_every``), so the log shows connections, agents
    and RSS over time, and `Agent Instances Should Stay At One Per User` can hold at every
    sample. Right after a run, `Fresh Connection Should Get An Answer Within` checks that
    a newcomer is served correctly and in time.

    = Skips =

    A check that needs something the target does not expose (no probe, no agent metric,
    no authenticated run) ends SKIP with the reason, never PASS.

    = Timeouts =

    Every wait has a timeout (library default 10 s, per keyword ``timeout``); on expiry
    the keyword fails in one line naming what it waited for, where, and for how long.

    = This view =

    This is the flapping view: the flapping keywords on a context of their own. Probes
    are configured with `Configure Server Probes` of ``wsresilience.ServerResources``, which
    also takes snapshots and judges leaks; in this view, which has its own context, the
    deprecated `Use Server Probes` still configures the sampler's probe.
    ``wsresilience.WebSocketResilience`` has every keyword on one shared context, where one
    `Configure Server Probes` serves the sampler, the snapshots and the leak rule alike.
    """

    COMPONENTS = (FlappingKeywords,)
