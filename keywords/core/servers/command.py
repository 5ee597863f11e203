"""A server the user names by its command line (``SERVER_COMMAND``), on an OS-chosen port.

The command line holds a ``{port}`` placeholder. :class:`CommandServer` picks a free port (the
OS chooses one for a socket bound to port 0, which is then released), puts it in, and runs the
command without a shell, in a process group of its own, with stdout and stderr going to a log
file that is never parsed. The server is ready when a WebSocket handshake with its URL
(``ws://127.0.0.1:{port}/`` unless told otherwise) succeeds: readiness is detected by
connecting, so any server that accepts WebSocket connections can stand in, whatever it
prints. Stopping sends SIGTERM to the whole group and SIGKILL after a grace period, so a
wrapper script takes its server down with it. :meth:`respawn` gives the same command on the
same port, for restarts.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from websockets.exceptions import InvalidHandshake, InvalidURI
from websockets.sync.client import connect

from wsresilience.core.servers.process import ServerProcess
from wsresilience.errors import ServerStartFailed

#: Where the server is reached unless the caller says otherwise.
DEFAULT_URL = "ws://127.0.0.1:{port}/"
#: The longest single handshake attempt while waiting for readiness.
ATTEMPT_TIMEOUT = 2.0
#: The pause between two attempts: spent waiting for the process to exit, which ends it early.
RETRY_PAUSE = 0.05


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS chose as free just now (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class CommandServer(ServerProcess):
    """A server started from ``command`` (with ``{port}``), ready once it accepts a WebSocket."""

    command: str = ""
    url_template: str = DEFAULT_URL
    fixed_port: int = 0
    #: The port the command was given (set by :meth:`start`).
    chosen_port: int = 0

    @property
    def port(self) -> int:
        """The port the command was told to listen on."""
        return self.chosen_port
    def argv(self, port: int) -> list[str]:
        """The command's arguments with ``{port}`` replaced."""
        return [part.replace("{port}", str(port)) for part in shlex.split(self.command)]

    def start(self, timeout: float) -> str:
        """Run the command on a free port (or :attr:`fixed_port`); return its URL once it is ready."""
        if "{port}" not in self.command:
            raise ServerStartFailed("Expected SERVER_COMMAND to hold a {port} placeholder; it has none.")
        port = self.chosen_port = self.fixed_port or free_port()
        self.args = self.argv(port)
        self.url = self.url_template.replace("{port}", str(port))
        fd, log_name = tempfile.mkstemp(prefix="server-command-", suffix=".log")
        os.close(fd)
        self.log_path = Path(log_name)
        with self.log_path.open("w") as log:
            try:
                self.popen = subprocess.Popen(  # noqa: S603
                    self.args, stdout=log, stderr=subprocess.STDOUT, text=True,
                    env={**os.environ, **self.env}, start_new_session=True,
                )
            except OSError as exc:
                raise ServerStartFailed(f"Expected SERVER_COMMAND to start; {self.args[0]}: {exc.strerror}.") from None
        self._wait_ready(timeout)
        return self.url

    def _wait_ready(self, timeout: float) -> None:
        """Attempt handshakes until one succeeds, the process exits, or ``timeout`` passes."""
        assert self.popen is not None
        started = time.monotonic()
        last = "no attempt"
        while True:
            left = timeout - (time.monotonic() - started)
            try:
                with connect(self.url, open_timeout=max(0.1, min(ATTEMPT_TIMEOUT, left)),
                             close_timeout=1, compression=None):
                    return
            except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            try:
                code = self.popen.wait(RETRY_PAUSE)
            except subprocess.TimeoutExpired:
                code = None
            if code is not None:
                raise ServerStartFailed(
                    f"Expected SERVER_COMMAND to serve {self.url}; it exited with code {code} before accepting "
                    f"a WebSocket connection: {self.stderr_tail() or 'it printed nothing'}."
                )
            if time.monotonic() - started >= timeout:
                self.stop()
                raise ServerStartFailed(
                    f"Expected SERVER_COMMAND to accept a WebSocket connection at {self.url} within "
                    f"{timeout:.1f} s; the last attempt got {last}."
                )

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM to the group, wait, then SIGKILL; returns once every process of the group is gone.

        The command's own process may be a wrapper that exits at once while its server is
        still closing its socket: a restart on the same port must not race it.
        """
        if self.popen is None:
            return None
        group = self._group()
        code = super().stop(timeout)
        _, alive = psutil.wait_procs(group, timeout=timeout)
        for process in alive:
            with contextlib.suppress(psutil.Error):
                process.kill()
        psutil.wait_procs(alive, timeout=5)
        return code

    def _group(self) -> list[psutil.Process]:
        """Every live process in the command's process group (its id is the command's pid)."""
        assert self.popen is not None
        members = []
        for process in psutil.process_iter():
            with contextlib.suppress(psutil.Error, OSError):
                if os.getpgid(process.pid) == self.popen.pid:
                    members.append(process)
        return members

    def _signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the command's whole process group (a wrapper and its server)."""
        assert self.popen is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def respawn(self) -> CommandServer:
        """The same command, environment and URL on the same port, not yet started."""
        return CommandServer([], env=dict(self.env), command=self.command, url_template=self.url_template,
                             fixed_port=self.port)
