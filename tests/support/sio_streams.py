"""The Socket.IO stream service of ``tests/servers/node/sio_stream.js``, as a process.

It streams events after the WS-RESILIENCE-002 event convention (docs/profiles.md) with
connection state recovery on (healthy), off (``--recovery off``), or replaying off by one
(``--replay duplicate`` / ``--replay skip``); ``--events a,b,c`` renames the three events.
Like every Node server here it needs ``npm ci --prefix tests/servers/node``;
:func:`support.node_servers.unavailable` says why it cannot run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from support import node_servers
from support.echo_server import EchoProcess

#: The script: a Socket.IO 4 service streaming `chunk` events, resumable by recovery.
SIO_STREAM = node_servers.NODE_DIR / "sio_stream.js"


@contextmanager
def running(*options: str) -> Iterator[EchoProcess]:
    """Start ``sio_stream.js`` with ``options``; its ``url`` is ``ws://127.0.0.1:PORT/``."""
    with node_servers.running(*options, script=SIO_STREAM) as server:
        yield server
