"""Start and stop the reference server as a real process on an OS-chosen port.

:class:`ServerProcess` runs ``python -m wsresilience.refserver`` and takes its URL from the
line it prints once it listens. A server named by a command line instead (``SERVER_COMMAND``)
is :class:`~wsresilience.core.servers.command.CommandServer`, which shares the stopping here.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from wsresilience.errors import ServerStartFailed

LISTENING = re.compile(r"listening on (?P<url>wss?://\S+)")


@dataclass
class ServerProcess:
    """A reference server process and where it listens."""

    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen[str] | None = None
    url: str = ""
    log_path: Path | None = None
    #: Set by :meth:`stop` when the process had exited before it was asked to: its exit
    #: code and the last lines it wrote to stderr, for the failure message.
    died_early: str = ""
    _drain: threading.Thread | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.popen is not None
        return self.popen.pid

    @property
    def port(self) -> int:
        """The port the server listens on (from its URL)."""
        return int(self.url.rsplit(":", 1)[1].split("/", 1)[0])

    @property
    def http_url(self) -> str:
        """The HTTP base URL of the same server (for /metrics and /healthz)."""
        return re.sub(r"^ws", "http", self.url)

    def start(self, timeout: float) -> str:
        """Start the process and wait for its "listening on" line; return the URL."""
        fd, log_name = tempfile.mkstemp(prefix="refserver-", suffix=".log")
        os.close(fd)
        self.log_path = Path(log_name)
        stderr = self.log_path.open("w")
        self.popen = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "wsresilience.refserver", *self.args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
        )
        stderr.close()
        found = threading.Event()
        lines: list[str] = []

        def read_stdout() -> None:
            assert self.popen is not None and self.popen.stdout is not None
            for line in self.popen.stdout:
                lines.append(line.rstrip())
                match = LISTENING.search(line)
                if match and not found.is_set():
                    self.url = match.group("url")
                    found.set()

        self._drain = threading.Thread(target=read_stdout, name="refserver-stdout", daemon=True)
        self._drain.start()
        started = time.monotonic()
        while not found.wait(0.05):
            if self.popen.poll() is not None:
                self._drain.join(1)
                said = self.log_path.read_text().strip().splitlines()
                reason = said[-1] if said else (lines[-1] if lines else "nothing")
                raise ServerStartFailed(
                    f"Reference server exited with code {self.popen.returncode} before "
                    f"listening: {reason}"
                )
            if time.monotonic() - started > timeout:
                self.stop()
                raise ServerStartFailed(
                    f"Reference server did not report listening within {timeout:.1f} s."
                )
        return self.url

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait, then SIGKILL; returns the exit code."""
        if self.popen is None:
            return None
        if self.popen.poll() is not None:
            self.died_early = f"exit code {self.popen.returncode}; stderr: {self.stderr_tail() or 'nothing'}"
        else:
            self._signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.popen.wait(5)
        if self._drain is not None:
            self._drain.join(2)
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        code = self.popen.returncode
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
        self.popen = None
        return code

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to flush or say goodbye (:meth:`stop` reaps it)."""
        if self.popen is not None:
            self._signal(signal.SIGKILL)

    def _signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the server process."""
        assert self.popen is not None
        self.popen.send_signal(sig)

    def respawn(self) -> ServerProcess:
        """A new, not yet started process with the same arguments and environment on the same port."""
        args = list(self.args)
        args[args.index("--port") + 1] = str(self.port)
        return ServerProcess(args, env=dict(self.env))

    def stderr_tail(self, lines: int = 5) -> str:
        """The last lines the server wrote to stderr, joined with `` | ``."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        said = [line for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        return " | ".join(said[-lines:])

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.popen is not None and self.popen.poll() is None
