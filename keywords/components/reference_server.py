"""The bundled reference server as a real process: start, restart, stop, users, metrics.

One server per library scope: the process handle lives on this component, and its stop
is registered with the context, so whatever a suite leaves running is stopped when the
library goes out of scope. The signing secret is made here, never logged or returned,
and registered with the context so no message the library words can show it; test users
get tokens signed with it (``wsresilience.refserver.auth``), printed masked.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from datetime import timedelta
from typing import Any

from assertionengine import AssertionOperator
from robot.api import logger
from robot.api.deco import keyword

from wsresilience.components.base import LibraryComponent
from wsresilience.context import LibraryContext
from wsresilience.core.evidence.judge import check
from wsresilience.core.masking import Credential, SecretOrStr, fresh_user_name, mask_url, reveal
from wsresilience.core.probes.sources import scrape
from wsresilience.core.runtime.timeouts import seconds
from wsresilience.core.servers.process import ServerProcess
from wsresilience.errors import ProbeUnavailable, ResilienceFailure
from wsresilience.refserver.auth import SECRET_ENV, issue_token

TAG = "Reference Server"
#: How long a start may take unless the keyword is given its own ``timeout``. A process
#: start is not a wait on the target, so `Set Library Timeout` does not change it.
START_TIMEOUT = 15.0


class ReferenceServerKeywords(LibraryComponent):
    """Runs ``python -m wsresilience.refserver`` on an OS-chosen port and hands out what tests need of it."""

    def __init__(self, ctx: LibraryContext) -> None:
        super().__init__(ctx)
        self._process: ServerProcess | None = None
        #: Signing secret of the server we start; never logged, never returned.
        self._secret = secrets.token_urlsafe(32)
        ctx.add_secret(self._secret)
        #: Arguments added to every start (see Set Reference Server Arguments).
        self._default_args: list[str] = []
        #: The data directory this component made for the running server (deleted on stop).
        self._data_dir: str | None = None
        ctx.on_close(self._stop_quietly)

    # -- the process ---------------------------------------------------------------------------

    @keyword(tags=[TAG])
    def start_reference_server(
        self,
        defect: str = "",
        ping_interval: timedelta = timedelta(milliseconds=500),
        ping_timeout: timedelta = timedelta(milliseconds=500),
        close_timeout: timedelta = timedelta(milliseconds=500),
        *extra_args: str,
        timeout: timedelta | None = None,
    ) -> str:
        """Starts the reference server and returns its WebSocket URL.

        ``defect`` names a seeded defect (empty for a healthy server); several can be
        given separated by commas. ``ping_interval`` and ``ping_timeout`` set the server
        keepalive (``0`` interval disables it); ``close_timeout`` bounds the closing
        handshake. ``extra_args`` are passed to ``python -m wsresilience.refserver`` as they are.
        ``timeout`` bounds the start (default 15 s).

        | ${url} =    Start Reference Server
        | ${url} =    Start Reference Server    defect=slow-reaper    ping_interval=200 ms
        """
        if self._process is not None and self._process.running:
            raise RuntimeError(f"A reference server is already running at {self._process.url}; stop it first.")
        args = [
            "--port", "0",
            "--ping-interval", str(ping_interval.total_seconds()),
            "--ping-timeout", str(ping_timeout.total_seconds()),
            "--close-timeout", str(close_timeout.total_seconds()),
        ]
        for name in (d.strip() for d in defect.split(",")):
            if name:
                args += ["--defect", name]
        args += [*self._default_args, *extra_args]
        if "--data-dir" not in args:
            self._data_dir = tempfile.mkdtemp(prefix="refserver-data-")
            args += ["--data-dir", self._data_dir]
        self._process = ServerProcess(args, env={SECRET_ENV: self._secret})
        url = self._process.start(seconds(timeout, START_TIMEOUT))
        logger.info(
            f"Reference server {url} (pid {self._process.pid}) started"
            f"{' with defect ' + defect if defect else ''}: keepalive interval "
            f"{ping_interval.total_seconds()} s, timeout {ping_timeout.total_seconds()} s."
        )
        return url

    @keyword(tags=[TAG])
    def stop_reference_server(self) -> None:
        """Stops the reference server (SIGTERM, then SIGKILL after 10 s). Safe to repeat.

        Fails if the server had exited on its own before it was asked to, with its exit
        code and last words.
        """
        if self._process is None:
            return
        process, self._process = self._process, None
        code = process.stop()
        self._remove_data_dir()
        if process.died_early:
            raise ResilienceFailure(
                f"Expected the reference server to run until stopped; it had exited on its own "
                f"({process.died_early})."
            )
        logger.info(f"Reference server stopped (exit code {code}).")

    @keyword(tags=[TAG])
    def restart_reference_server(self, how: str = "graceful", timeout: timedelta | None = None) -> str:
        """Stops the running server and starts it again on the same port and data directory.

        ``how`` is ``graceful`` (SIGTERM: the server closes its connections and exits) or
        ``crash`` (SIGKILL: no chance to flush or say goodbye). The new process gets the
        same arguments, the same signing secret and the same port, so the URL stays valid;
        what it knows afterwards is only what it had persisted. Returns the URL.
        ``timeout`` bounds the new start (default 15 s).

        | Restart Reference Server    crash
        """
        if how not in ("graceful", "crash"):
            raise ValueError(f"Unknown restart {how!r}; expected graceful or crash.")
        old = self._require()
        url, old_pid = old.url, old.pid
        args = list(old.args)
        args[args.index("--port") + 1] = str(old.port)
        if how == "crash":
            old.kill()
        code = old.stop()
        self._process = ServerProcess(args, env={SECRET_ENV: self._secret})
        new_url = self._process.start(seconds(timeout, START_TIMEOUT))
        if new_url != url:
            raise ResilienceFailure(f"Expected the restarted server at {url}; it listens at {new_url}.")
        logger.info(f"Reference server restarted ({how}): pid {old_pid} exited with code {code}; "
                    f"pid {self._process.pid} listens at {new_url} with the same data directory.")
        return new_url

    @keyword(tags=["Setter", TAG])
    def set_reference_server_arguments(self, *args: str) -> list[str]:
        """Sets command-line arguments added to every later start; returns the previous ones.

        For settings `Start Reference Server` has no argument for, such as the session
        TTL. Restarts keep them.

        | Set Reference Server Arguments    --session-ttl    4
        """
        old, self._default_args = self._default_args, list(args)
        return old

    def _require(self) -> ServerProcess:
        if self._process is None or not self._process.running:
            raise RuntimeError("No reference server is running; use Start Reference Server first.")
        return self._process

    def _stop_quietly(self) -> None:
        """End of scope: stop whatever is still running, without judging how it ended."""
        if self._process is not None:
            self._process.stop()
            self._process = None
        self._remove_data_dir()

    def _remove_data_dir(self) -> None:
        if self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None

    # -- where it is -----------------------------------------------------------------------------

    @keyword(tags=["Getter", TAG])
    def get_reference_server_url(self, assertion_operator: AssertionOperator | None = None,
                                 assertion_expected: Any = None, message: str | None = None) -> str:
        """Returns the WebSocket URL of the running reference server; optionally asserts on it.

        | Get Reference Server Url    ^=    ws://127.0.0.1:
        """
        url = self._require().url
        return check(url, assertion_operator, assertion_expected, "reference server URL", message=message)

    @keyword(tags=["Getter", TAG])
    def get_reference_server_pid(self, assertion_operator: AssertionOperator | None = None,
                                 assertion_expected: Any = None, message: str | None = None) -> int:
        """Returns the process id of the running reference server; optionally asserts on it."""
        pid = self._require().pid
        return check(pid, assertion_operator, assertion_expected, "reference server pid", message=message)

    @keyword(tags=["Getter", TAG])
    def get_reference_server_metrics_url(self, assertion_operator: AssertionOperator | None = None,
                                         assertion_expected: Any = None, message: str | None = None) -> str:
        """Returns the ``/metrics`` URL of the running reference server; optionally asserts on it."""
        url = self._metrics_url()
        return check(url, assertion_operator, assertion_expected, "reference server metrics URL",
                     message=message)

    def _metrics_url(self) -> str:
        return self._require().http_url.rstrip("/") + "/metrics"

    # -- users ---------------------------------------------------------------------------------------

    @keyword(tags=[TAG])
    def create_test_user(self, prefix: str = "user", ttl: timedelta = timedelta(hours=1)) -> Credential:
        """Creates a fresh user with a token the reference server accepts.

        The user name is unique (``<prefix>-<random>``) so parallel tests never share
        users. The returned credential prints as ``<user NAME: valid token ***>``: the
        token never reaches the log. A negative ``ttl`` gives an already expired token.

        | ${alice} =    Create Test User    alice
        """
        user = fresh_user_name(prefix)
        kind = "expired" if ttl.total_seconds() <= 0 else "valid"
        return Credential(user, issue_token(self._secret, user, ttl.total_seconds()), kind)

    @keyword(tags=[TAG])
    def create_expired_credential(self, user: Credential | str | None = None,
                                  expired_for: timedelta = timedelta(minutes=1)) -> Credential:
        """Returns a token correctly signed for ``user`` that expired ``expired_for`` ago.

        ``user`` is a credential or a user name (default: a fresh user). A server must
        reject it with ``expired-token``; the credential prints as ``<user NAME: expired
        token ***>``.

        | ${stale} =    Create Expired Credential    ${alice}
        """
        name = user.user if isinstance(user, Credential) else (user or fresh_user_name("expired"))
        token = issue_token(self._secret, name, -expired_for.total_seconds())
        return Credential(name, token, "expired")

    # -- metrics ---------------------------------------------------------------------------------------

    @keyword(tags=["Getter", TAG])
    def get_server_metric(
        self,
        name: str,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: float | None = None,
        metrics_url: SecretOrStr = "",
        message: str | None = None,
    ) -> float:
        """Returns the value of metric sample ``name``, optionally asserting on it.

        Reads ``metrics_url`` (default: the reference server's ``/metrics``). A missing
        sample fails naming the samples that exist.

        | ${n} =    Get Server Metric    ws_open_connections
        | Get Server Metric    ws_keepalive_terminations_total    >=    1
        """
        url = reveal(metrics_url) or self._metrics_url()
        try:
            samples = scrape(url, ssl_context=self.ctx.target.ssl_context(url))
        except ProbeUnavailable as exc:
            raise ResilienceFailure(str(exc)) from None
        if name not in samples:
            raise ResilienceFailure(f"Metric {name!r} not found at {mask_url(url)}; it has: {', '.join(sorted(samples))}.")
        return check(samples[name], assertion_operator, assertion_expected, name, "", "", message)
