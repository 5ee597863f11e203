"""A service that speaks docs/protocol.md but that the suites did not start.

The reference server itself, started by a test as an ordinary process with a signing secret
the test chose (``REFSERVER_JWT_SECRET``), on an OS-chosen port: to the suites it is just
``WS_URL``, like a staging service whose tokens come from ``AUTH_JWT_SECRET`` or
``AUTH_TOKEN_COMMAND``. :func:`server_command` gives the command line that ``SERVER_COMMAND``
runs for a server the suites start themselves.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from wsresilience.core.servers.process import ServerProcess
from wsresilience.refserver.auth import SECRET_ENV

from support import REPO

#: The token command of the tests (``{user}`` and ``{ttl}`` are the suite's placeholders).
TOKEN_COMMAND = f"{shlex.quote(sys.executable)} {shlex.quote(str(REPO / 'tests/support/token_command.py'))} {{user}} {{ttl}}"


@dataclass
class External:
    """Where the external server listens."""

    url: str
    metrics_url: str
    pid: int


@contextmanager
def external_server(secret: str, *args: str, session_ttl: float = 4.0) -> Iterator[External]:
    """Run the reference server with ``secret`` and ``args`` (e.g. ``--defect NAME``) until the block ends."""
    with tempfile.TemporaryDirectory(prefix="external-data-") as data:
        process = ServerProcess(
            ["--port", "0", "--ping-interval", "0.5", "--ping-timeout", "0.5", "--close-timeout", "0.5",
             "--session-ttl", str(session_ttl), "--data-dir", data, *args],
            env={SECRET_ENV: secret},
        )
        url = process.start(15)
        try:
            yield External(url, process.http_url.rstrip("/") + "/metrics", process.pid)
        finally:
            process.stop()


def server_command(data_dir: Path, *args: str, session_ttl: float = 4.0) -> str:
    """A ``SERVER_COMMAND`` that runs the reference server on ``{port}`` with a data directory.

    The server takes its signing secret from ``REFSERVER_JWT_SECRET`` in the environment the
    suite inherits.
    """
    parts = [sys.executable, "-m", "wsresilience.refserver", "--port", "{port}",
             "--ping-interval", "0.5", "--ping-timeout", "0.5", "--close-timeout", "0.5",
             "--session-ttl", str(session_ttl), "--data-dir", str(data_dir), *args]
    return " ".join(shlex.quote(p) if p != "{port}" else p for p in parts)
