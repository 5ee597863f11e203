"""The heartbeat view: the keywords for heartbeats and zombie connections."""

from __future__ import annotations

from robot.api.deco import library

from wsresilience import __version__
from wsresilience.components.base import ResilienceLibrary
from wsresilience.components.heartbeat import HeartbeatKeywords


@library(scope="SUITE", version=__version__, doc_format="ROBOT")
class Heartbeat(ResilienceLibrary):
    """Tests heartbeats and zombie detection over real WebSocket connections.

    The server pings, the client answers with a pong. A client that stops answering is a
    *zombie*: the server must notice and terminate it within its ping interval plus its
    ping timeout, and free what it held. This library opens real client connections
    whose behaviour you switch at run time, records everything that happens to them, and
    measures it.

    %TOC%

    = Behaviours =

    | =Behaviour=  | =What the client does=                                          |
    | responsive   | answers every ping with a pong                                  |
    | no-pong      | keeps reading and receiving, but drops its pongs               |
    | frozen       | stops reading altogether, like a hung process                  |

    A ``frozen`` client cannot read the server's close frame, yet it still sees the
    server give up: it peeks at the unread bytes (a close frame waiting) and at its TCP
    state (the server's FIN turns it CLOSE_WAIT; a reset breaks it).

    = Connections =

    Every connection has a name (``client-1`` … or the one you give). Keywords taking
    ``connections`` accept one name, a list of names, or ``ALL`` for every open one.

    = Client heartbeat =

    `Start Client Heartbeat` makes the client ping the server at its own interval,
    measuring round-trip time (RTT) and flagging a server that stops answering.

    = Evidence =

    Keywords that judge a figure log it beside its threshold and margin. `Log Heartbeat
    Report` logs, per connection, the state timeline, the events (ping received, pong
    sent, pong suppressed, close with code and reason) and the latency statistics.
    Getters (`Get Round Trip Time`, `Get Close Code` …) return their value, or assert it
    when given an operator and an expected value (``message`` replaces the failure
    message).

    = Timeouts =

    Every wait has a timeout: the library default (``timeout`` at import, 10 s) unless
    the keyword takes its own. A wait that runs out fails with one line naming what it
    waited for, the target (secrets masked) and the time spent.

    = Example =

    | ${conn} =    Open Heartbeat Connection    ${URL}
    | Wait For Server Pings    ${conn}    count=5
    | Set Connection Behaviour    ${conn}    no-pong
    | Connection Should Be Terminated Within    ${conn}    1.25 s

    = This view and the whole library =

    This is the heartbeat view: the heartbeat keywords alone, on a context of their own.
    ``wsresilience.WebSocketResilience`` has every keyword of every concern on one shared
    context (one timeout, one loop, one set of handles, one target). `Set Heartbeat
    Timeout` is deprecated: use ``Set Library Timeout`` of
    ``wsresilience.WebSocketResilience``.
    """

    COMPONENTS = (HeartbeatKeywords,)
