"""Network faults between a WebSocket client and its server: the network-faults view."""

from __future__ import annotations

from robot.api.deco import library

from wsresilience import __version__
from wsresilience.components.base import ResilienceLibrary
from wsresilience.components.network_faults import NetworkFaultsKeywords


@library(scope="SUITE", version=__version__, doc_format="ROBOT")
class NetworkFaults(ResilienceLibrary):
    """Puts a fault-injecting proxy between a WebSocket client and its server.

    Real networks fail in ways a client cannot fake by closing its own socket: a peer
    that vanishes without FIN or RST (half-open), latency spikes, resets in the middle
    of a frame, a link that goes down and up. This library creates a TCP proxy in front
    of a target, hands you the proxied URL to connect to, and adds *faults* to it in
    plain language. The vocabulary is [https://github.com/Shopify/toxiproxy|Toxiproxy]'s
    (each fault is a *toxic*), plus WebSocket-aware faults no TCP proxy offers.

    %TOC%

    = Proxies =

    `Create Proxy` starts a proxy in front of a ``ws://`` or ``wss://`` URL and returns
    the URL to connect to instead: same scheme, path and query; host ``127.0.0.1``; a
    port the OS chose, so parallel runs never collide. Every other keyword takes the
    proxy by its name or by that URL. Proxies are stopped when the library goes out of
    scope (the end of the suite): no socket or task is left behind.

    = Faults =

    | =Keyword=              | =Toxic=           | =Effect=                                                  |
    | `Add Latency`          | latency           | each chunk delayed by latency ± jitter                    |
    | `Limit Bandwidth`      | bandwidth         | at most the given rate                                     |
    | `Slice Data`           | slicer            | chunks cut into small pieces, optionally delayed          |
    | `Blackhole Proxy`      | timeout 0         | half-open: nothing passes, no FIN, no RST is sent          |
    | `Close After Timeout`  | timeout           | nothing passes; the connection closes after the timeout  |
    | `Reset Connections`    | —                 | open connections get a TCP RST now                         |
    | `Reset Connections After` | reset_peer     | connections get an RST after a delay                      |
    | `Slow Close`           | slow_close        | a FIN is held before it is passed on                       |
    | `Limit Data`           | limit_data        | the connection closes after so many bytes                 |
    | `Drop Pong Frames`     | drop_pongs        | PONG frames dropped, nothing else (WebSocket-aware)        |
    | `Cut At Frame`         | cut_at_frame      | RST instead of the Nth data frame, or when a JSON field reaches K |
    | `Duplicate Frame`      | duplicate_frame   | the Nth data frame sent twice                              |
    | `Corrupt Frame`        | corrupt_frame     | one payload byte of the Nth data frame flipped             |

    Each *Add* keyword returns the fault's name (``latency_downstream`` …), for
    `Remove Fault`. Faults apply to connections already open as well as new ones.
    `Get Proxy Faults` lists them; `Remove All Faults` heals the proxy.

    = Directions =

    ``direction`` is ``downstream`` (server to client, the default for most faults),
    ``upstream`` (client to server) or ``both``. With ``both``, two faults are added and
    a list of two names is returned.

    = Toxicity and seeds =

    ``toxicity`` is the probability (0 to 1) that a fault applies to a given
    connection, drawn once per connection. ``seed`` (per proxy, given to `Create Proxy`)
    fixes the generator behind those draws, jitter and slicing, so a run repeats.

    = In-process or Toxiproxy =

    By default the proxies run inside this process, on the library's event loop.
    Given a Toxiproxy API (``toxiproxy_url`` at import, or `Use Toxiproxy Server`), the
    same keywords drive it instead: ``python -m wsresilience.faultproxy --api-port 0`` (ours) or a
    real Toxiproxy. Over HTTP, the WebSocket-aware faults need the server to be ours
    (checked through ``GET /version``) and fail plainly otherwise; ``seed`` is then the
    server's own ``--seed``.

    = Observing the server =

    Behind a blackhole the client sees nothing, yet the server must give up on it.
    The in-process proxy sees the server's side: `Upstream Should Be Closed By Server
    Within` waits until the server sends a close frame, a FIN or an RST on every
    connection that was open when the latest fault was added, and logs the time beside
    its bound.

    = Timeouts =

    Every wait has a timeout, the library default (``timeout`` at import, 10 s) unless
    the keyword takes its own, and fails in one line saying what it waited for, where,
    and how long.

    = Example =

    | ${url} =    Create Proxy    ${TARGET_URL}    name=zombie
    | ${conn} =    Open Heartbeat Connection    ${url}
    | Add Latency    zombie    200 ms    jitter=50 ms
    | Remove All Faults    zombie
    | Blackhole Proxy    zombie
    | Upstream Should Be Closed By Server Within    zombie    1.25 s    criterion=AC-007.6

    = One library, several views =

    This is the network-faults view: the fault-proxy keywords only, on a context of
    their own. ``wsresilience.WebSocketResilience`` has every keyword of every concern on
    one shared context, where a proxy created by these keywords is seen by the
    heartbeat, stream and flapping keywords too.
    """

    COMPONENTS = (NetworkFaultsKeywords,)
