"""Server configuration, shared by the command line and the tests."""

from __future__ import annotations

from dataclasses import dataclass

from .defects import Defect


@dataclass
class ServerConfig:
    """How the reference server listens and keeps connections alive.

    ``ping_interval``/``ping_timeout`` drive the server-side keepalive (seconds; interval
    ``None`` disables it). ``close_timeout`` bounds how long the server waits for a closing
    handshake before dropping the TCP connection. ``backlog`` is the listen backlog
    (asyncio's default, 100, unless raised for many concurrent connects).

    ``defects`` are the seeded defects, in the order given on the command line (the start
    line lists them in that order). They are parsed here, once, when the configuration is
    built: a name is turned into its :class:`Defect` and an unknown one raises
    :class:`~wsresilience.refserver.defects.UnknownDefect`, before anything binds a port.
    """

    host: str = "127.0.0.1"
    port: int = 8765
    ping_interval: float | None = 20.0
    ping_timeout: float = 20.0
    close_timeout: float = 10.0
    max_size: int = 1 << 20
    backlog: int = 100
    defects: tuple[Defect, ...] = ()
    data_dir: str | None = None
    #: Seconds a session survives without a connection (WS-RESILIENCE-001).
    session_ttl: float = 300.0
    #: Refuse a stream resume that names no epoch with ``epoch-changed``, as a strict server
    #: may (protocol section 8); off, a resume without an epoch is taken as this epoch's.
    require_epoch: bool = False
    #: A certificate (PEM, chain first) and its key: serve ``wss://`` (and ``https://`` for
    #: ``/metrics``, ``/version``, ``/healthz``) instead of ``ws://``. Both or neither.
    tls_cert: str | None = None
    tls_key: str | None = None
    #: ``gc.freeze()`` after every this many accepted connections (0: never). For benchmarks
    #: holding thousands of connections, where a full collection would pause the server for
    #: seconds; cycles among frozen objects of closed connections are not reclaimed until the
    #: server exits, so never for a leak check.
    gc_freeze_every: int = 0

    def __post_init__(self) -> None:
        self.defects = Defect.parse_all(self.defects)
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("TLS needs both a certificate (--tls-cert) and its key (--tls-key).")

    def has(self, defect: Defect) -> bool:
        """Whether the server runs with seeded defect ``defect``."""
        return defect in self.defects

    @property
    def effective_ping_interval(self) -> float | None:
        """The ping interval after seeded defects."""
        return None if self.has(Defect.NO_KEEPALIVE) else self.ping_interval

    @property
    def effective_ping_timeout(self) -> float:
        """The pong timeout after seeded defects.

        ``slow-reaper`` terminates three times later than interval + timeout;
        ``reap-healthy`` gives up after a quarter of the timeout.
        """
        if self.has(Defect.SLOW_REAPER) and self.ping_interval is not None:
            return 3 * (self.ping_interval + self.ping_timeout) - self.ping_interval
        if self.has(Defect.REAP_HEALTHY):
            return self.ping_timeout / 4
        return self.ping_timeout
