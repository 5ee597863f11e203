"""Third-party stand-ins on Node.js, as processes: the scripts in ``tests/servers/node/``.

- ``ws_echo.js``: a plain ``ws`` 8 echo server with the ws README's heartbeat loop;
  ``--leak-kib N`` keeps N KiB per connection forever (see the script's header);
- ``sio_echo.js``: a plain Socket.IO 4 server (Engine.IO over WebSocket).

They need Node.js and the locked packages (``package-lock.json``) installed in
``tests/servers/node/node_modules``:

    npm ci --prefix tests/servers/node

``.ci/run`` does that before pytest, so in CI these servers always run; on a machine
without Node.js or without that install, :func:`unavailable` says why and the tests that
need them SKIP with the reason.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from support import REPO
from support.echo_server import EchoProcess, server_process

#: The Node project of the test servers (package.json, package-lock.json, the scripts).
NODE_DIR = REPO / "tests" / "servers" / "node"
WS_ECHO = NODE_DIR / "ws_echo.js"
SIO_ECHO = NODE_DIR / "sio_echo.js"


def unavailable() -> str | None:
    """Why the Node servers cannot run here, or None when they can."""
    if shutil.which("node") is None:
        return "Node.js (node) is not on PATH; install Node 20 and run npm ci --prefix tests/servers/node"
    missing = [name for name in ("ws", "socket.io") if not (NODE_DIR / "node_modules" / name / "package.json").exists()]
    if missing:
        return (f"{' and '.join(missing)} not installed in {NODE_DIR / 'node_modules'}; "
                "run npm ci --prefix tests/servers/node")
    return None


@contextmanager
def running(*options: str, script: Path = WS_ECHO) -> Iterator[EchoProcess]:
    """Start ``script`` (default ``ws_echo.js``) with ``options``; stop it (SIGTERM) on exit.

    The URL is the one the script prints, path and query included.
    """
    with server_process(["node", str(script), *options], r"ws://127\.0\.0\.1:(\d+)/\S*",
                        script.name) as server:
        yield server
