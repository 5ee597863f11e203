"""The shared library context: one object per library instance that every component stands on.

A keyword component (heartbeat, flapping, streams, …) holds no state of its own that
another component might need. What is shared lives here, set in one place:

- the event loop (:class:`~wsresilience.core.runtime.loop.LoopThread`), acquired on first use
  and released when the library goes out of scope;
- the default timeout, which `Set Library Timeout` changes for every component at once;
- the largest message a client accepts (``max_message_size``), which every component
  that connects passes to its connections and `Set Max Message Size` changes;
- the garbage-collector policy for many held connections (``gc_freeze_at``, see
  :mod:`~wsresilience.core.runtime.heldgc`);
- the handle registries: connections, conversations, stream sessions, proxies;
- the target (its URL and TLS settings), the server probes, and the token source test
  users' tokens come from;
- the secrets to mask, and cleanups run at the end of the library's scope.

Keywords run in Robot's thread and hand coroutines to the loop with :meth:`run`; the
loop-side code returns results and the components judge and word them.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
import ssl
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from robot.utils import secs_to_timestr

from wsresilience.core.profiles import Announced, ProtocolProfile, get_profile, render_auth_payload
from wsresilience.core.profiles.base import payload_secrets
from wsresilience.core.client.limits import DEFAULT_MAX_MESSAGE_SIZE, message_size
from wsresilience.core.client.tls import client_ssl_context
from wsresilience.core.masking import known_secrets, mask_secret, mask_url
from wsresilience.core.probes.series import ResourceProbe
from wsresilience.core.runtime.heldgc import DEFAULT_FREEZE_AT, HeldObjectsGc
from wsresilience.core.runtime.loop import LoopThread, acquire_loop, release_loop
from wsresilience.core.runtime.registry import Registry
from wsresilience.core.runtime.timeouts import TimeLike, seconds

if TYPE_CHECKING:
    from wsresilience.core.auth.tokens import TokenSource
    from wsresilience.core.client.connection import ObservedConnection
    from wsresilience.core.conversations.session import SessionConversation
    from wsresilience.core.faults.handle import ProxyHandle
    from wsresilience.core.streams.session import StreamSession

T = TypeVar("T")


@dataclass
class Target:
    """The service under test, as far as the library needs to know it.

    ``url`` is what the suites test (empty until set); ``ca_file`` and ``verify_tls`` apply
    to every ``wss://`` connection any component opens (`Configure Target TLS` sets them):
    each one asks :meth:`ssl_context` for the URL it connects to.
    """

    url: str = ""
    ca_file: str = ""
    verify_tls: bool = True

    @property
    def masked_url(self) -> str:
        """The URL with passwords and secret query values hidden."""
        return mask_url(self.url) if self.url else ""

    def ssl_context(self, url: str, ca_file: str | None = None,
                    verify_tls: bool | None = None) -> ssl.SSLContext | None:
        """The TLS context for connecting to ``url`` (``None`` unless ``wss://``), from these
        settings; ``ca_file``/``verify_tls`` given here override them for one keyword."""
        return client_ssl_context(url, self.ca_file if ca_file is None else ca_file,
                                  self.verify_tls if verify_tls is None else verify_tls)


#: How long a token minted for ``{token}`` in ``WS_AUTH_PAYLOAD`` is valid, in seconds.
AUTH_PAYLOAD_TOKEN_TTL = 3600.0

class LibraryContext:
    """What every keyword component shares: loop, timeout, handles, target, probes, secrets.

    It is also the library's listener (``ROBOT_LIBRARY_LISTENER``): Robot calls
    :meth:`start_suite` when a suite that imports the library starts, :meth:`log_message` for
    each message logged, and :meth:`close` when the library goes out of scope, at the end of
    the suite.
    """

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, timeout: TimeLike = timedelta(seconds=10), toxiproxy_url: str = "",
                 max_message_size: int | str = DEFAULT_MAX_MESSAGE_SIZE,
                 gc_freeze_at: int = DEFAULT_FREEZE_AT) -> None:
        self.timeout: float = seconds(timeout)
        #: Keeps full garbage collections off the objects of many held connections.
        self.held_gc = HeldObjectsGc(int(gc_freeze_at))
        #: The largest message (bytes) a client of any component accepts; a larger one makes
        #: the client close with 1009, and the failure names this limit.
        self.max_message_size: int = message_size(max_message_size)
        #: A Toxiproxy API the fault keywords drive instead of the in-process proxy.
        self.toxiproxy_url = toxiproxy_url.strip()
        self.target = Target()
        self.probe = ResourceProbe()
        #: Where test users' tokens come from (the reference-server keywords set and change
        #: it); None: the target gives none.
        self.tokens: TokenSource | None = None
        self.connections: Registry[ObservedConnection] = Registry("connection", "client")
        self.conversations: Registry[SessionConversation] = Registry("conversation")
        self.stream_sessions: Registry[StreamSession] = Registry("stream session", "session")
        self.proxies: Registry[ProxyHandle] = Registry("proxy")
        #: The protocol the target speaks above RFC 6455 (``WS_PROTOCOL``; see
        #: :mod:`wsresilience.core.profiles`); ``reference`` unless a suite or test says otherwise.
        self.profile: ProtocolProfile = get_profile("reference")
        #: Whether the profile was chosen (``WS_PROTOCOL`` given), or is the default, which
        #: suites treat as "the reference protocol where the target answers it".
        self.profile_chosen = False
        self._auth_template = ""
        #: The server keepalive required (``SERVER_PING_INTERVAL``, ``SERVER_PING_TIMEOUT``, s)
        #: and the one the service last announced (Socket.IO), for failures that say why.
        self.keepalive_required: tuple[float, float] | None = None
        self.keepalive_announced: Announced | None = None
        self._loop: LoopThread | None = None
        self._cleanups: list[Callable[[], None]] = []
        self._secrets: set[str] = set()
        self._log_watchers: list[Callable[[Any], None]] = []

    # -- the loop -------------------------------------------------------------------------

    @property
    def loop(self) -> LoopThread:
        """The shared event loop thread, started on first use."""
        if self._loop is None:
            self._loop = acquire_loop()
        return self._loop

    @property
    def loop_started(self) -> bool:
        """Whether this context has used the loop (nothing to close otherwise)."""
        return self._loop is not None

    def run(self, coro: Coroutine[Any, Any, T], what: str, timeout: float | None = None,
            target: str = "") -> T:
        """Run ``coro`` on the loop and wait for it, at most ``timeout`` (default: the library's).

        On timeout the coroutine is cancelled and the failure says what was awaited, where
        (masked) and for how long.
        """
        limit = self.timeout if timeout is None else timeout
        return self.loop.run(coro, limit, what, mask_url(target) if target else "")

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a plain function on the loop thread (to touch loop-owned state safely)."""
        return self.loop.call(fn, *args)

    # -- settings ---------------------------------------------------------------------------

    def set_timeout(self, timeout: TimeLike) -> str:
        """Set the default timeout for every wait; return the old one as a Robot time string."""
        old = self.timeout
        self.timeout = seconds(timeout)
        return secs_to_timestr(old)

    def timeout_or_default(self, timeout: TimeLike | None) -> float:
        """``timeout`` in seconds, or the library default when none is given."""
        return seconds(timeout, self.timeout)

    def set_max_message_size(self, size: int | str) -> int:
        """Set the largest message a client accepts (bytes, or ``"64 MiB"``); return the old."""
        old, self.max_message_size = self.max_message_size, message_size(size)
        return old

    # -- the protocol profile and its auth payload ------------------------------------------

    def use_profile(self, name: str) -> ProtocolProfile:
        """Select the profile named ``name`` for connections opened from now on; an empty
        name restores the default (``reference``, not chosen)."""
        self.profile = get_profile(name or "reference")
        self.profile_chosen = bool(name and name.strip())
        return self.profile

    def use_auth_payload(self, template: str) -> None:
        """Use ``template`` (``WS_AUTH_PAYLOAD``) for every handshake from now on; its secret
        values are registered so no message shows them. Fails at once if it is not a JSON object."""
        for secret in payload_secrets(template):
            self.add_secret(secret)
        render_auth_payload(template, "check")
        self._auth_template = template

    def auth_payload(self, user: str, token: str | None = None) -> dict[str, Any] | None:
        """The auth payload for ``user`` (``{user}`` and ``{token}`` filled in), or ``None``.

        A template that asks for ``{token}`` without one given gets a valid token for ``user``
        from the run's token source (``AUTH_JWT_SECRET``, ``AUTH_TOKEN_COMMAND``), never the
        literal placeholder; with no token source that is a one-line failure naming both.
        """
        if token is None and "{token}" in self._auth_template:
            if self.tokens is None:
                raise ValueError("WS_AUTH_PAYLOAD asks for {token}, but the run names no token source: "
                                 "set AUTH_JWT_SECRET or AUTH_TOKEN_COMMAND.")
            token = self.tokens.valid(user, AUTH_PAYLOAD_TOKEN_TTL).token
        return render_auth_payload(self._auth_template, user, token)

    # -- the keepalive required of the target, and the one it announces ------------------------

    def require_keepalive(self, interval: float, timeout: float) -> None:
        """The server keepalive the run requires (``SERVER_PING_INTERVAL`` /
        ``SERVER_PING_TIMEOUT``), in seconds, that :meth:`keepalive_note` compares with."""
        self.keepalive_required = (interval, timeout)

    def keepalive_note(self) -> str:
        """Why the service cannot meet the required keepalive, from the values it announced
        itself (Socket.IO's ``pingInterval`` / ``pingTimeout``), or ``""``."""
        if self.keepalive_required is None or self.keepalive_announced is None:
            return ""
        return self.keepalive_announced.looser_than(*self.keepalive_required)

    # -- secrets ----------------------------------------------------------------------------

    def add_secret(self, secret: str) -> None:
        """Register a secret so every message the library words is masked."""
        if secret:
            self._secrets.add(secret)

    def secret_values(self) -> list[str]:
        """Every secret to mask: registered ones (auth payload values…) and known ones (tokens)."""
        return [*self._secrets, *known_secrets()]

    def mask(self, text: str) -> str:
        """``text`` with registered and known secrets hidden."""
        return mask_secret(text, [*self._secrets, *known_secrets()])

    # -- what Robot logs ---------------------------------------------------------------------

    def watch_log(self, watcher: Callable[[Any], None]) -> None:
        """Hand ``watcher`` every message Robot logs while the library is in scope.

        The messages are Robot's listener-v3 ``Message`` objects (``message``, ``level``).
        `Tokens Should Not Appear In The Log` stands on this.
        """
        self._log_watchers.append(watcher)

    def log_message(self, message: Any) -> None:
        """Listener hook: pass each logged message to the watchers of :meth:`watch_log`."""
        for watcher in self._log_watchers:
            watcher(message)

    # -- the run's output folder ---------------------------------------------------------------

    def start_suite(self, data: Any, result: Any) -> None:
        """Listener hook: a run that uses the library leaves no earlier run's sign-off page.

        The sign-off files in the folders this run writes its output to (under pabot, also the
        folder the merged output lands in) describe an output.xml this run replaces, so they
        are removed (:mod:`wsresilience.signoff.stale`); ``SignOffListener`` or
        ``python -m wsresilience.signoff`` writes the page for this run.
        """
        from wsresilience.signoff.stale import clear_for_this_run

        clear_for_this_run()

    # -- end of scope -------------------------------------------------------------------------

    def on_close(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` when the library goes out of scope (latest registered runs first)."""
        self._cleanups.append(cleanup)

    def close(self) -> None:
        """Run every cleanup (connections, proxies, servers), then release the loop.

        Every cleanup runs even if one fails; the first failure is raised at the end.
        """
        first: BaseException | None = None
        while self._cleanups:
            cleanup = self._cleanups.pop()
            try:
                cleanup()
            except Exception as exc:  # noqa: BLE001 - every cleanup must get its turn
                first = first or exc
        self.held_gc.release()
        if self._loop is not None:
            self._loop = None
            release_loop()
        if first is not None:
            raise first
