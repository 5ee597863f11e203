"""Framework servers for the profiles' suite runs (WS-RESILIENCE-006 on every profile).

Node.js scripts of ``tests/servers/node/`` run as processes (through
:func:`support.node_servers.running`), healthy or broken on purpose:

- ``sio_agents.js``: a Socket.IO 4 service with agents (one per user, retired after a
  grace period), the agent convention of docs/profiles.md and the agent metrics of
  docs/protocol.md section 9 on ``/metrics``; ``--duplicate-agents`` and
  ``--leak-sockets`` break it (see the script's header);
- ``gql_server.js``: a graphql-ws 6 server on ``ws`` (``useServer``), optionally requiring a
  token in ``connection_init`` and ``--leak-kib``;
- ``ws_echo.js`` (:data:`support.node_servers.WS_ECHO`): the plain ``ws`` server the
  ``rfc6455`` profile runs against.

:func:`suite_options` turns a running server into the run-contract options of a suite run
(``WS_URL``, ``WS_PROTOCOL``, ``SERVER_PID``, ``METRICS_URL``, ``WS_AUTH_PAYLOAD``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from support import node_servers
from support.echo_server import EchoProcess

SIO_AGENTS = node_servers.NODE_DIR / "sio_agents.js"
GQL_SERVER = node_servers.NODE_DIR / "gql_server.js"
#: The token the servers are started with where they check one, and a wrong one.
TOKEN = "flap-secret-7"
WRONG_TOKEN = "not-the-token"


def unavailable() -> str | None:
    """Why the framework servers cannot run here, or None when they can."""
    reason = node_servers.unavailable()
    if reason:
        return reason
    if not (node_servers.NODE_DIR / "node_modules" / "graphql-ws" / "package.json").exists():
        return "graphql-ws not installed; run npm ci --prefix tests/servers/node"
    return None


@contextmanager
def running(script: Path, *options: str) -> Iterator[EchoProcess]:
    """Start ``script`` with ``options``; stop it on exit. Its URL is the service's root."""
    with node_servers.running(*options, script=script) as server:
        yield server


#: Starts a framework server: ``start(script, *options)`` returns it running.
Start = Callable[..., EchoProcess]


@contextmanager
def starter() -> Iterator[Start]:
    """A ``start`` for a test's framework servers, each stopped when the block ends; SKIPs,
    saying why, without Node.js or the locked packages (the body of a test's fixture)."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    with ExitStack() as stack:
        yield lambda script, *options: stack.enter_context(running(script, *options))


def metrics_url(server: EchoProcess) -> str:
    """The ``/metrics`` endpoint of a server that serves one beside its WebSocket (sio_agents.js)."""
    return server.url.replace("ws://", "http://", 1).rstrip("/") + "/metrics"


def suite_options(server: EchoProcess, protocol: str, *, metrics: bool = False,
                  auth: dict[str, str] | None = None) -> list[str]:
    """``--variable`` options that point a suite at ``server`` with ``WS_PROTOCOL`` ``protocol``."""
    options = ["--variable", f"WS_URL:{server.url}", "--variable", f"WS_PROTOCOL:{protocol}",
               "--variable", f"SERVER_PID:{server.pid}"]
    if metrics:
        options += ["--variable", f"METRICS_URL:{metrics_url(server)}"]
    if auth is not None:
        options += ["--variable", f"WS_AUTH_PAYLOAD:{json.dumps(auth)}"]
    return options
