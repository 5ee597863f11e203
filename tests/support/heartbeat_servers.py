"""Heartbeat services on Node.js for WS-RESILIENCE-007 on every profile, as processes.

The scripts in ``tests/servers/node/`` (each prints ``listening on ws://127.0.0.1:PORT/`` and
serves Prometheus text at ``/metrics``: ``ws_open_connections``, the server's own count):

- ``heartbeat_sio.js``: Socket.IO 4 with ``--ping-interval MS`` / ``--ping-timeout MS``
  (announced in Engine.IO's open packet), for ``WS_PROTOCOL=socketio``;
- ``heartbeat_ws.js``: plain ``ws`` 8, with the ws README's heartbeat loop every
  ``--ping-interval MS`` or, without it, none at all, for ``WS_PROTOCOL=rfc6455``;
- ``heartbeat_graphql_ws.js``: graphql-ws 6 (``useServer`` of ``graphql-ws/use/ws``) with
  ``--keep-alive MS`` (0: off), for ``WS_PROTOCOL=graphql-ws``.

They need Node.js and ``npm ci --prefix tests/servers/node``; :func:`unavailable` says why
not, so the tests SKIP with the reason.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from support.echo_server import EchoProcess
from support.node_servers import NODE_DIR, running

#: Script for each profile.
SCRIPTS = {
    "socketio": NODE_DIR / "heartbeat_sio.js",
    "rfc6455": NODE_DIR / "heartbeat_ws.js",
    "graphql-ws": NODE_DIR / "heartbeat_graphql_ws.js",
}
PACKAGES = ("ws", "socket.io", "graphql-ws", "graphql")


@dataclass(frozen=True)
class HeartbeatService:
    """A running heartbeat service: the process, and the run-contract variables to test it."""

    process: EchoProcess
    profile: str

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.process.port}/metrics"

    def variables(self) -> dict[str, str]:
        """``WS_URL``, ``WS_PROTOCOL`` and ``METRICS_URL`` for this service."""
        return {"WS_URL": self.process.url, "WS_PROTOCOL": self.profile, "METRICS_URL": self.metrics_url}


def unavailable() -> str | None:
    """Why the Node heartbeat services cannot run here, or None when they can."""
    if shutil.which("node") is None:
        return "Node.js (node) is not on PATH; install Node 20 and run npm ci --prefix tests/servers/node"
    missing = [name for name in PACKAGES if not (NODE_DIR / "node_modules" / name / "package.json").exists()]
    if missing:
        return (f"{', '.join(missing)} not installed in {NODE_DIR / 'node_modules'}; "
                "run npm ci --prefix tests/servers/node")
    return None


@contextmanager
def serving(profile: str, *options: str) -> Iterator[HeartbeatService]:
    """Run the heartbeat service of ``profile`` with ``options``; stop it on exit."""
    with running(*options, script=SCRIPTS[profile]) as process:
        yield HeartbeatService(process, profile)
