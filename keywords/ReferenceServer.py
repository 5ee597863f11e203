"""The bundled reference WebSocket server as a process: the reference-server view."""

from __future__ import annotations

from robot.api.deco import library

from wsresilience import __version__
from wsresilience.components.base import ResilienceLibrary
from wsresilience.components.reference_server import ReferenceServerKeywords


@library(scope="SUITE", version=__version__, doc_format="ROBOT")
class ReferenceServer(ResilienceLibrary):
    """Runs the bundled reference server as a real process, on an OS-chosen port.

    The reference server (``python -m wsresilience.refserver``) implements heartbeat, resume and
    session semantics for real. Suites start it in their setup and stop it in their
    teardown; it listens on a port the OS chooses, so parallel runs (pabot) never collide.

    %TOC%

    = Seeded defects =

    `Start Reference Server` takes ``defect``: a named way to break the server on purpose
    (``no-keepalive``, ``slow-reaper``, ``reap-healthy``, ``leak-zombies`` …). An unknown
    name fails with the list of known ones. The suites must fail the criteria a defect
    breaks; that is how we know they can fail.

    = Test users =

    The library starts the server with a signing secret of its own, so `Create Test User`
    and `Create Expired Credential` can hand out tokens the server accepts (or rejects as
    expired). For another service, `Use Token Secret` mints them with its signing secret, or
    `Use Token Command` gets each from a command (an identity provider's client); a kind of
    token the source cannot give makes the check SKIP with the reason. Credentials print
    with their token masked.

    = A server of your own =

    `Start Server Command` runs any server from a command line with ``{port}``; it is ready
    once it accepts a WebSocket connection, and `Restart Reference Server` and `Stop
    Reference Server` treat it like the bundled one (docs/protocol.md, section 10).

    = Metrics =

    The server serves ``/metrics`` in the Prometheus text format and ``/healthz``.
    `Get Server Metric` reads one sample and can assert on it:

    | ${open} =    Get Server Metric    ws_open_connections
    | Get Server Metric    ws_open_connections    ==    0

    Whatever the suite leaves running is stopped when the library goes out of scope.

    = One library, several views =

    This is the reference-server view: the keywords that start, restart and stop the
    bundled server and make its test users, on a context of their own.
    ``wsresilience.WebSocketResilience`` has every keyword of every concern on one shared
    context.
    """

    COMPONENTS = (ReferenceServerKeywords,)
