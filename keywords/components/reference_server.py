"""The server the suites start (bundled, or named by a command), its test users, its metrics.

One server per library scope: the process handle lives on this component, and its stop
is registered with the context, so whatever a suite leaves running is stopped when the
library goes out of scope. It is the bundled reference server (`Start Reference Server`) or
a server started from a command line with ``{port}`` (`Start Server Command`); restarts and
stops treat both alike.

Test users get their tokens from the context's token source (:mod:`wsresilience.core.auth.tokens`):
by default the bundled server's signing secret, made here, never logged or returned, and
registered with the context so no message the library words can show it; for another service,
its own secret (`Use Token Secret`) or a command that prints tokens (`Use Token Command`).
Credentials print masked.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from datetime import timedelta
from collections.abc import Callable
from typing import Any

from assertionengine import AssertionOperator
from robot.api import logger
from robot.api.deco import keyword

from wsresilience.components.base import LibraryComponent
from wsresilience.context import LibraryContext
from robot.api.exceptions import SkipExecution
from robot.api.types import Secret

from wsresilience.core.auth.tokens import CommandSource, JwtSecretSource, MaskedSecret, TokenSource
from wsresilience.core.evidence.judge import check
from wsresilience.core.masking import Credential, SecretOrStr, fresh_user_name, mask_url, reveal
from wsresilience.core.probes.sources import scrape
from wsresilience.core.runtime.timeouts import seconds
from wsresilience.core.servers.command import DEFAULT_URL, CommandServer
from wsresilience.core.servers.process import ServerProcess
from wsresilience.errors import ProbeUnavailable, ResilienceFailure, TokenSourceFailed, TokenUnavailable
from wsresilience.refserver.auth import ALGORITHM, ISSUER, SECRET_ENV

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
        if ctx.tokens is None:  # the default: the bundled server's secret
            ctx.tokens = self._reference_tokens()
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
    def start_server_command(self, command: Secret | str, url: str = DEFAULT_URL,
                             timeout: timedelta | None = None) -> str:
        """Starts the server ``command`` names on a free port and returns its WebSocket URL.

        ``command`` is a command line with a ``{port}`` placeholder, replaced by a port the OS
        chose as free; it runs without a shell, in a process group of its own. The server is
        ready once a WebSocket handshake with ``url`` (``{port}`` replaced; default
        ``ws://127.0.0.1:{port}/``) succeeds: nothing it prints is parsed. It runs until
        `Stop Reference Server` or the end of the library's scope (SIGTERM to the group, then
        SIGKILL after 10 s), and `Restart Reference Server` restarts it on the same port.
        ``timeout`` bounds the start (default 15 s). The command line may be a ``Secret``; only
        its program name is ever shown.

        | ${url} =    Start Server Command    ./my-server --listen 127.0.0.1:{port}
        """
        if self._process is not None and self._process.running:
            raise RuntimeError(f"A server is already running at {self._process.url}; stop it first.")
        text = command.value if isinstance(command, Secret) else command
        self._process = CommandServer([], command=text, url_template=url)
        started = self._process.start(seconds(timeout, START_TIMEOUT))
        logger.info(f"Server {self.ctx.mask(started)} started by command {self._process.args[0]} "
                    f"(pid {self._process.pid}); it accepted a WebSocket connection.")
        return started

    @keyword(tags=[TAG])
    def stop_reference_server(self) -> None:
        """Stops the running server (SIGTERM, then SIGKILL after 10 s). Safe to repeat.

        The server is the bundled one or the one `Start Server Command` started.

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

        The server is the bundled one or the one `Start Server Command` started (its command
        runs again, with the same port). ``how`` is ``graceful`` (SIGTERM: the server closes its connections and exits) or
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
        if how == "crash":
            old.kill()
        code = old.stop()
        self._process = old.respawn()
        new_url = self._process.start(seconds(timeout, START_TIMEOUT))
        if new_url != url:
            raise ResilienceFailure(f"Expected the restarted server at {url}; it listens at {new_url}.")
        logger.info(f"Server restarted ({how}): pid {old_pid} exited with code {code}; "
                    f"pid {self._process.pid} listens at {self.ctx.mask(new_url)} with the same data directory.")
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
            raise RuntimeError("No reference server is running, nor one Start Server Command started; start one first.")
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

    @keyword(tags=["Setter", TAG])
    def use_token_secret(self, secret: Secret | str, issuer: str = "", audience: str = "",
                         algorithm: str = "HS256") -> str:
        """Test users get tokens minted with the target's ``secret``; returns the previous source.

        For a service that verifies JWTs with a shared secret (or key): `Create Test User` and
        `Create Expired Credential` mint tokens with claims ``sub`` (the user), ``iat``,
        ``exp``, plus ``iss`` = ``issuer`` and ``aud`` = ``audience`` when given, signed with
        ``algorithm`` (default HS256). Pass the secret as a ``Secret`` so Robot never logs it,
        even at TRACE level; either way it is registered for masking and never printed.

        | Use Token Secret    ${{ robot.api.types.Secret($AUTH_JWT_SECRET) }}    issuer=auth.example.com
        """
        value = secret.value if isinstance(secret, Secret) else secret
        if not value:
            raise ValueError("Expected a signing secret; it is empty.")
        self.ctx.add_secret(value)
        source = JwtSecretSource(MaskedSecret(value), issuer, audience, algorithm or "HS256",
                                 f"tokens minted with AUTH_JWT_SECRET ({algorithm or 'HS256'})")
        source.mint("probe", 60)  # an unusable key or algorithm fails here, not in the first test
        return self._swap_tokens(source)

    @keyword(tags=["Setter", TAG])
    def use_token_command(self, command: Secret | str) -> str:
        """Test users get tokens from ``command``, run once per token; returns the previous source.

        For services whose tokens come from an identity provider. ``{user}`` in the command
        line is replaced by the fresh user's name and ``{ttl}`` by the lifetime asked for in
        whole seconds; what the command prints on stdout, stripped, is the token (never logged).
        An expired token is asked for with a negative ``{ttl}``: if the command's token has not
        in fact expired, the check that needed it SKIPs with the reason.

        | Use Token Command    get-token --user {user} --lifetime {ttl}
        """
        text = command.value if isinstance(command, Secret) else command
        if "{user}" not in text:
            raise ValueError("Expected the token command to hold a {user} placeholder; it has none.")
        return self._swap_tokens(CommandSource(text))

    @keyword(tags=["Setter", TAG])
    def clear_token_source(self) -> str:
        """The target gives no tokens: `Create Test User` SKIPs with the reason; returns the previous source."""
        return self._swap_tokens(None)

    @keyword(tags=["Getter", TAG])
    def get_token_source(self, assertion_operator: AssertionOperator | None = None,
                         assertion_expected: Any = None, message: str | None = None) -> str:
        """Returns where test users' tokens come from, in words (``none`` when the target gives none).

        | ${source} =    Get Token Source
        | Get Token Source    !=    none
        """
        return check(self._describe(self.ctx.tokens), assertion_operator, assertion_expected, "token source",
                     message=message)

    @keyword(tags=[TAG])
    def create_test_user(self, prefix: str = "user", ttl: timedelta = timedelta(hours=1)) -> Credential:
        """Creates a fresh user with a token the target accepts (from the token source).

        The user name is unique (``<prefix>-<random>``) so parallel tests never share
        users. The returned credential prints as ``<user NAME: valid token ***>``: the
        token never reaches the log. A negative ``ttl`` gives an already expired token.
        SKIPs, with the reason, when the target gives no tokens.

        | ${alice} =    Create Test User    alice
        """
        user = fresh_user_name(prefix)
        if ttl.total_seconds() <= 0:
            return self.create_expired_credential(user, -ttl)
        return self._issue(lambda source: source.valid(user, ttl.total_seconds()))

    @keyword(tags=[TAG])
    def create_expired_credential(self, user: Credential | str | None = None,
                                  expired_for: timedelta = timedelta(minutes=1),
                                  if_unavailable: str = "skip") -> Credential | str:
        """Returns a token correctly made for ``user`` that expired ``expired_for`` ago.

        ``user`` is a credential or a user name (default: a fresh user). A server must
        reject it with ``expired-token``; the credential prints as ``<user NAME: expired
        token ***>``. When the token source cannot give an expired token (a token command
        that ignores a negative ``{ttl}``), the test SKIPs with the reason, or, with
        ``if_unavailable=reason``, the reason is returned instead of a credential, so the
        caller can run its other checks first.

        | ${stale} =    Create Expired Credential    ${alice}
        """
        if if_unavailable not in ("skip", "reason"):
            raise ValueError(f"Unknown if_unavailable {if_unavailable!r}; expected skip or reason.")
        name = user.user if isinstance(user, Credential) else (user or fresh_user_name("expired"))
        try:
            return self._issue(lambda source: source.expired(name, expired_for.total_seconds()))
        except SkipExecution as exc:
            if if_unavailable == "reason":
                logger.info(f"No expired token for {name}: {exc}")
                return str(exc)
            raise

    def _issue(self, make: Callable[[TokenSource], Credential]) -> Credential:
        """A credential from the token source; SKIP without one or when it cannot make this kind."""
        if self.ctx.tokens is None:
            raise SkipExecution("The target gives no test users' tokens: the suite did not start it and neither "
                                "AUTH_JWT_SECRET nor AUTH_TOKEN_COMMAND is set.")
        try:
            credential = make(self.ctx.tokens)
        except TokenUnavailable as exc:
            raise SkipExecution(self.ctx.mask(str(exc))) from None
        except TokenSourceFailed as exc:
            raise ResilienceFailure(self.ctx.mask(str(exc))) from None
        self.ctx.add_secret(credential.token)
        return credential

    def _reference_tokens(self) -> JwtSecretSource:
        return JwtSecretSource(MaskedSecret(self._secret), ISSUER, "", ALGORITHM,
                               "tokens signed with the bundled reference server's secret")

    def _swap_tokens(self, source: TokenSource | None) -> str:
        old, self.ctx.tokens = self.ctx.tokens, source
        logger.info(f"Test users' tokens: {self._describe(source)}.")
        return self._describe(old)

    @staticmethod
    def _describe(source: TokenSource | None) -> str:
        return source.description if source is not None else "none"

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
