"""A server named by its command line: free port, readiness by connecting, restart, stop."""

from __future__ import annotations

import shlex
import sys
import time

import pytest
from websockets.sync.client import connect
from wsresilience.core.servers.command import CommandServer
from wsresilience.errors import ServerStartFailed

PY = shlex.quote(sys.executable)
#: A WebSocket server that prints nothing at all: readiness cannot come from its output.
SILENT = ("import sys; from websockets.sync.server import serve; "
          "serve(lambda ws: ws.send(ws.recv()), '127.0.0.1', int(sys.argv[1])).serve_forever()")


def _echo(url: str) -> str:
    with connect(url, open_timeout=5) as ws:
        ws.send("hello")
        return str(ws.recv(5))


def test_a_silent_server_is_ready_once_it_accepts_a_websocket() -> None:
    server = CommandServer([], command=f"{PY} -c {shlex.quote(SILENT)} {{port}}")
    url = server.start(15)
    try:
        assert url == f"ws://127.0.0.1:{server.port}/"
        assert _echo(url) == "hello"
    finally:
        server.stop()
    assert not server.running


def test_a_restart_runs_the_command_again_on_the_same_port() -> None:
    first = CommandServer([], command=f"{PY} -c {shlex.quote(SILENT)} {{port}}")
    url = first.start(15)
    pid = first.pid
    first.kill()
    first.stop()
    second = first.respawn()
    try:
        assert second.start(15) == url
        assert second.pid != pid
        assert _echo(url) == "hello"
    finally:
        second.stop()


def test_stop_takes_down_a_wrapper_and_its_server() -> None:
    inner = f"{PY} -c {shlex.quote(SILENT)} $0"
    server = CommandServer([], command=f"sh -c {shlex.quote(inner)} {{port}}")
    url = server.start(15)
    server.stop()
    with pytest.raises(OSError):
        connect(url, open_timeout=2).close()


def test_a_command_that_exits_fails_the_start_with_its_last_words() -> None:
    script = "import sys; print('cannot bind', file=sys.stderr); sys.exit(3)"
    server = CommandServer([], command=f"{PY} -c {shlex.quote(script)} {{port}}")
    with pytest.raises(ServerStartFailed, match=r"exited with code 3 .*cannot bind"):
        server.start(15)


def test_a_command_that_never_listens_times_out_and_is_stopped() -> None:
    server = CommandServer([], command=f"{PY} -c {shlex.quote('import signal; signal.pause()')} {{port}}")
    started = time.monotonic()
    with pytest.raises(ServerStartFailed, match=r"within 1\.0 s; the last attempt got"):
        server.start(1)
    assert time.monotonic() - started < 5
    assert not server.running


def test_a_command_without_a_port_placeholder_is_refused() -> None:
    with pytest.raises(ServerStartFailed, match=r"\{port\} placeholder"):
        CommandServer([], command=f"{PY} -m wsresilience.refserver --port 8765").start(5)
