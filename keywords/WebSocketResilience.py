"""The one library: every resilience keyword on one shared context."""

from __future__ import annotations

from robot.api.deco import library

from wsresilience import __version__
from wsresilience.components.base import ResilienceLibrary
from wsresilience.components.conversations import ConversationKeywords
from wsresilience.components.conversations_cycles import ReconnectCycleKeywords
from wsresilience.components.conversations_security import SessionSecurityKeywords
from wsresilience.components.flapping import FlappingKeywords
from wsresilience.components.heartbeat import HeartbeatKeywords
from wsresilience.components.network_faults import NetworkFaultsKeywords
from wsresilience.components.protocol import ProtocolKeywords
from wsresilience.components.reference_server import ReferenceServerKeywords
from wsresilience.components.server_resources import ServerResourcesKeywords
from wsresilience.components.settings import SettingsKeywords
from wsresilience.components.streams import StreamKeywords


@library(scope="SUITE", version=__version__, doc_format="ROBOT")
class WebSocketResilience(ResilienceLibrary):
    """Tests that a WebSocket service survives bad networks, over real sockets.

    Heartbeats and zombie connections, clients that flap, streams cut mid-way and
    resumed, conversations that must survive reconnects, and the faults a real network
    adds: one library, one import, every keyword on one shared context.

    %TOC%

    = Importing =

    | Library    wsresilience.WebSocketResilience
    | Library    wsresilience.WebSocketResilience    timeout=30 s    toxiproxy_url=http://127.0.0.1:8474
    | Library    wsresilience.WebSocketResilience    max_message_size=256 MiB

    ``timeout`` is the default of every wait (see `Timeouts`); ``toxiproxy_url`` makes the
    network-fault keywords drive a Toxiproxy API instead of the in-process fault proxy;
    ``max_message_size`` is the largest message a client accepts (see `Message size`);
    ``gc_freeze_at`` (default 1000, ``0``: off) is the number of held heartbeat connections
    from which the library keeps Python's garbage collector off their objects
    (``gc.freeze()`` after each bulk open, undone when fewer are held), so that a full
    collection, which at 10,000 connections pauses the client for longer than a 1 s ping
    timeout, does not make healthy connections miss their pongs.

    = What the keywords are for =

    Keywords carry a tag naming their concern, so the keyword list can be filtered by it:

    | =Tag=             | =What it covers=                                                                 |
    | Heartbeat         | connections that answer pings, drop their pongs or freeze; termination bounds; RTT |
    | Flapping          | many clients connecting and dropping over and over; success rate, handshake latency |
    | Server Resources  | what the server holds: connections, memory, descriptors (metrics or psutil); leaks |
    | Streams           | streams cut mid-way and resumed with backoff, verified chunk by chunk            |
    | Conversations     | sessions that keep their history across reconnects, restarts and other users' tokens |
    | Network Faults    | a fault proxy in front of any target: latency, bandwidth, blackhole, resets, flapping |
    | Reference Server  | start, restart and stop the bundled server; test users with masked tokens        |
    | Settings          | the library-wide timeout, the library version, masked URLs, time and count arithmetic for derived bounds |

    Keywords are also tagged ``Getter`` (returns a value, optionally asserting it),
    ``Assertion`` (passes or fails) and ``Setter`` (changes a setting).

    = One shared context =

    Every keyword works on the same context: a connection opened by a heartbeat keyword,
    a proxy created by a network-fault keyword and a probe configured by a
    server-resource keyword are visible to all of them, and one `Set Library Timeout`
    applies everywhere. At the end of the suite the context closes every connection,
    session, proxy and server it holds and stops its event loop: nothing is left open.

    Handles have names. Keywords that take several (``connections``) accept one name, a
    list of names, or ``ALL``. A name that is not known fails with the list of known ones.

    = Timeouts =

    Every wait has a timeout: the library default (``timeout`` at import, 10 s) unless the
    keyword takes its own. A wait that runs out fails with one line naming what it
    waited for, the target (secrets masked) and the time it waited. `Set Library Timeout`
    returns the old value, so a scope can restore it.

    = Message size =

    Every client the library opens (heartbeat connections, stream sessions, conversations,
    flapping clients) accepts messages up to one limit: 64 MiB unless ``max_message_size``
    or `Set Max Message Size` says otherwise (the suites pass ``WS_MAX_MESSAGE_SIZE``). A
    larger message makes the client close the connection with 1009 (Message Too Big), and
    the failure says it was *the client's own limit*: the server is not blamed for it.

    = Protocol profiles =

    The target may speak more than RFC 6455. `Use Protocol Profile` (the suites pass
    ``WS_PROTOCOL``) says what: ``reference`` (docs/protocol.md, the default), ``rfc6455``,
    ``socketio`` or ``graphql-ws``. The profile decides how a connection is opened (the
    Engine.IO and Socket.IO handshake with its ``auth``, graphql-ws ``connection_init``), what
    the server's heartbeat looks like and how the client answers it, and how auth is
    presented (`Use Auth Payload`, from ``WS_AUTH_PAYLOAD``).

    = Errors no retry can heal =

    Keywords that retry opening a connection (`Connect To Stream Service`, `Reconnect And
    Resume Streams`, `Flap Clients`) retry only what can heal: a refused or reset
    connection, a handshake timeout, HTTP 5xx, 408 or 429. A malformed URL, an unknown
    host, an untrusted certificate, an HTTP 4xx answer to the upgrade or an answer that is
    not a WebSocket handshake stops them at the first attempt, and the failure names that
    error, the attempts made and the time they took.

    = Assertions =

    Getters double as assertions, in the style of robotframework-browser: without an
    operator they return the value; with one they check it and fail with a message
    (``message`` replaces it).

    | ${p95} =    Get Round Trip Time    p95
    | Get Round Trip Time    p95    <    100
    | Get Open Connection Count    ==    ${baseline}    message=The server kept a zombie.

    Numeric checks log the figure beside its threshold and margin, so the report shows
    how close a PASS was, not just that it passed. Tests tagged with a criterion (``AC-007.2``)
    pass ``criterion=`` so the sign-off page can find the figures.

    = Skips =

    A check that needs something the target does not offer (no metrics endpoint, no
    resume protocol) ends *SKIP with the reason*, never PASS. A target that cannot be
    reached fails: nothing passes without running.

    = Secrets =

    Tokens are held in credential objects that print as ``<user alice-3f2a: valid token
    ***>``, and every URL the library prints has its password and secret query values
    masked.

    = Per-concern libraries =

    ``wsresilience.Heartbeat``, ``wsresilience.Flapping``, ``wsresilience.ServerResources``,
    ``wsresilience.StreamResume``, ``wsresilience.ContextReconnect``, ``wsresilience.NetworkFaults``
    and ``wsresilience.ReferenceServer`` remain importable. Each is a view holding one
    concern's keywords on a context of its own, for scenarios written before this
    library existed. Their keyword names never overlap, so they import together. Use
    this library to get every keyword on one shared context; do not import it together
    with a view, or the keywords would be found twice.

    = Example =

    | *** Settings ***
    | Library    wsresilience.WebSocketResilience
    | Suite Setup       Start Reference Server    ping_interval=200 ms    ping_timeout=200 ms
    | Suite Teardown    Stop Reference Server
    |
    | *** Test Cases ***
    | A Hung Client Is Dropped Within Half A Second
    |     ${url} =       Get Reference Server Url
    |     ${client} =    Open Heartbeat Connection    ${url}
    |     Wait For Server Pings    ${client}    count=1
    |     Set Connection Behaviour    ${client}    frozen
    |     Connection Should Be Terminated Within    ${client}    650 ms
    """

    COMPONENTS = (
        SettingsKeywords,
        ProtocolKeywords,
        HeartbeatKeywords,
        FlappingKeywords,
        ServerResourcesKeywords,
        StreamKeywords,
        ConversationKeywords,
        ReconnectCycleKeywords,
        SessionSecurityKeywords,
        NetworkFaultsKeywords,
        ReferenceServerKeywords,
    )
