"""Server resources over time: what a server holds now, sampled, and waited for.

A :class:`ResourceProbe` reads what a server holds, by resource name, from whatever the
target offers: its Prometheus endpoint first, a local process (psutil) for whatever the
metrics lack. A :class:`Sampler` thread takes snapshots every few tens of milliseconds
during a scenario, so a chart can show connections, agents and memory over time, and a
check can hold "at every sample". :func:`wait_for_snapshot` and :func:`wait_until_settled`
poll the probe until the server reaches a state, and return what they saw: the keyword
components judge it.

Resource names (``connections``, ``rss_bytes``, ``fds``…) are the keys of :data:`UNITS`;
:func:`resource_names` reads a comma-separated list of them. The leak rule, which judges
snapshots taken round after round, is in :mod:`wsresilience.core.probes.leaks`.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar
from urllib.parse import urlsplit

from wsresilience.core.masking import mask_url
from wsresilience.core.probes.sources import sample_process, scrape
from wsresilience.errors import ProbeLost, ProbeUnavailable

#: Resource name → the Prometheus sample that carries it.
METRICS: dict[str, str] = {
    "connections": "ws_open_connections",
    "authenticated_sessions": "ws_authenticated_sessions",
    "agents": "ws_agent_instances",
    "agents_per_user_max": "ws_agent_instances_per_user_max",
    "tasks": "ws_asyncio_tasks",
    "rss_bytes": "process_resident_memory_bytes",
    "fds": "process_open_fds",
    "threads": "process_threads",
}

#: How each resource is counted, for tables and failures.
UNITS: dict[str, str] = {
    "connections": "connections",
    "authenticated_sessions": "sessions",
    "agents": "agents",
    "agents_per_user_max": "agents",
    "tasks": "tasks",
    "rss_bytes": "bytes",
    "fds": "descriptors",
    "threads": "threads",
}

MB = 1024 * 1024

T = TypeVar("T")


def resource_names(resources: str | Sequence[str]) -> list[str]:
    """Resource names from ``"fds, tasks"`` or a list; an unknown name fails, listing the known ones."""
    items = resources.split(",") if isinstance(resources, str) else list(resources)
    names = [r.strip() for r in items if r.strip()]
    unknown = [n for n in names if n not in UNITS]
    if unknown:
        raise ValueError(f"Unknown resource(s) {', '.join(unknown)}; known: {', '.join(UNITS)}.")
    return names


def scale_of(resource: str) -> tuple[float, str]:
    """How a resource is shown: RSS in MB, every count in its own unit."""
    return (MB, "MB") if resource == "rss_bytes" else (1.0, UNITS[resource])


@dataclass(frozen=True)
class Snapshot:
    """What the server held at one moment: resource name → value, and where each came from."""

    t: float
    values: dict[str, float]
    sources: dict[str, str] = field(default_factory=dict)
    label: str = ""

    def get(self, resource: str) -> float | None:
        """The value of ``resource``, or None when the target does not expose it."""
        return self.values.get(resource)

    def __str__(self) -> str:
        shown = []
        for name, value in self.values.items():
            shown.append(f"rss={value / MB:.1f} MB" if name == "rss_bytes" else f"{name}={value:g}")
        return f"<snapshot {self.label or 'unnamed'}: {', '.join(shown) or 'nothing exposed'}>"

    __repr__ = __str__

    def labelled(self, label: str) -> Snapshot:
        """The same snapshot under another label."""
        return replace(self, label=label)

    def deltas_since(self, before: Snapshot) -> dict[str, float]:
        """``self - before`` for every resource both snapshots hold, in ``before``'s order."""
        return {name: self.values[name] - value for name, value in before.values.items()
                if name in self.values}


class ResourceProbe:
    """Reads a server's resources from its metrics endpoint and/or its process.

    ``connections_metric`` renames the metric counting WebSocket connections; ``port``
    restricts psutil's connection count to the server's listening port.
    """

    def __init__(
        self,
        metrics_url: str = "",
        pid: int | None = None,
        port: int | None = None,
        connections_metric: str = METRICS["connections"],
    ) -> None:
        self.metrics_url = metrics_url
        self.pid = pid
        self.port = port
        self.metrics = {**METRICS, "connections": connections_metric}
        #: TLS for an ``https://`` metrics endpoint (the target's settings), else ``None``.
        self.ssl_context: ssl.SSLContext | None = None
        #: Sources that have answered at least once; losing one later is a failure.
        self.answered: set[str] = set()

    @classmethod
    def for_target(
        cls,
        metrics_url: str = "",
        pid: str | int | None = "",
        target_url: str = "",
        connections_metric: str = METRICS["connections"],
    ) -> ResourceProbe:
        """A probe from the settings a suite has at hand: text as Robot passes it.

        ``pid`` may be empty (no process); ``target_url``'s port restricts psutil's
        connection count to the server's listening socket.
        """
        return cls(
            metrics_url.strip(),
            int(pid) if pid is not None and str(pid).strip() else None,
            urlsplit(target_url).port if target_url else None,
            connections_metric,
        )

    @property
    def configured(self) -> bool:
        """Whether any source is configured at all."""
        return bool(self.metrics_url) or self.pid is not None

    def describe(self) -> str:
        """The configured sources, secrets masked."""
        parts = []
        if self.metrics_url:
            parts.append(f"metrics {mask_url(self.metrics_url)}")
        if self.pid is not None:
            parts.append(f"process {self.pid} (psutil)")
        return " and ".join(parts) or "no probe"

    def _read(self, source: str, read: Callable[[], T], lost: str, problems: list[str]) -> T | None:
        """What ``source`` answers, or None (the reason added to ``problems``) when it does not.

        A source that answered earlier in this run and answers no more raises
        :class:`ProbeLost`, worded ``<lost><reason>; it answered earlier in this run.``
        """
        try:
            answer = read()
        except ProbeUnavailable as exc:
            if source in self.answered:
                raise ProbeLost(f"{lost}{exc}; it answered earlier in this run.") from None
            problems.append(str(exc))
            return None
        self.answered.add(source)
        return answer

    def snapshot(self, label: str = "") -> Snapshot:
        """One snapshot; raises :class:`ProbeUnavailable` when no source answers."""
        values: dict[str, float] = {}
        sources: dict[str, str] = {}
        problems: list[str] = []
        if self.metrics_url:
            samples = self._read("metrics", lambda: scrape(self.metrics_url, ssl_context=self.ssl_context), "The server's ", problems)
            if samples is not None:
                for resource, metric in self.metrics.items():
                    if metric in samples:
                        values[resource] = samples[metric]
                        sources[resource] = f"metric {metric}"
        if self.pid is not None:
            pid = self.pid
            sample = self._read("process", lambda: sample_process(pid, self.port), "The server process is gone: ",
                                problems)
            if sample is not None:
                by_psutil = {
                    "rss_bytes": float(sample.rss_bytes),
                    "fds": float(sample.open_fds),
                    "threads": float(sample.threads),
                }
                if self.port is not None:
                    by_psutil["connections"] = float(sample.open_connections)
                for resource, value in by_psutil.items():
                    if resource not in values:
                        values[resource] = value
                        sources[resource] = f"psutil, process {self.pid}"
        if not values:
            reason = "; ".join(problems) or "no metrics endpoint (METRICS_URL) and no process id (SERVER_PID)"
            raise ProbeUnavailable(reason)
        return Snapshot(time.monotonic(), values, sources, label)


class Sampler:
    """Takes snapshots in a background thread every ``interval`` seconds until stopped.

    A thread, not the event loop: scraping is blocking I/O, and the loop is busy running the
    scenario. Failed samples are counted, not raised; :attr:`errors` keeps the last reason.
    """

    def __init__(self, probe: ResourceProbe, interval: float = 0.1) -> None:
        self.probe = probe
        self.interval = interval
        self.snapshots: list[Snapshot] = []
        self.failed = 0
        self.last_error = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="resource-sampler", daemon=True)

    def _take(self) -> None:
        try:
            self.snapshots.append(self.probe.snapshot(f"sample {len(self.snapshots) + 1}"))
        except (ProbeUnavailable, ProbeLost) as exc:
            self.failed += 1
            self.last_error = str(exc)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self._take()
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def start(self) -> Sampler:
        """Take a first sample now, then keep sampling in the background."""
        self._take()
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> list[Snapshot]:
        """Stop, take a last sample, and return every snapshot in time order."""
        self._stop.set()
        self._thread.join(timeout)
        self._take()
        return self.snapshots


def wait_for_snapshot(
    probe: ResourceProbe,
    condition: Callable[[Snapshot], bool],
    timeout: float,
    poll: float = 0.05,
) -> tuple[Snapshot, bool]:
    """Poll ``probe`` until ``condition(snapshot)`` holds; return the last snapshot and whether it did.

    Polling, because a remote count sends no event to wait on; bounded by ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        snap = probe.snapshot()
        if condition(snap):
            return snap, True
        if time.monotonic() >= deadline:
            return snap, False
        time.sleep(poll)


def counts_of(snapshot: Snapshot) -> dict[str, float]:
    """The counts a snapshot holds (connections, descriptors, tasks …): everything but memory."""
    return {name: value for name, value in snapshot.values.items() if name != "rss_bytes"}


def wait_until_settled(
    probe: ResourceProbe,
    want: Mapping[str, float] | float | None,
    quiet: float,
    timeout: float,
    first: Snapshot | None = None,
    poll: float = 0.05,
) -> tuple[Snapshot, bool]:
    """Poll until the server's counts settle; return the last snapshot and whether they did.

    ``want`` is the counts to come back to (e.g. :func:`counts_of` a baseline), or a
    connection count alone. Settled: every wanted count the target exposes equals its
    wanted value, or none of them has changed for ``quiet`` seconds (counted from
    ``first``, a snapshot just taken, when given), or the target exposes none of them.
    Connections alone are not enough: a server may drop a TCP connection a moment before
    it closes the socket's descriptor.
    """
    wanted = dict(want) if isinstance(want, Mapping) else {} if want is None else {"connections": float(want)}
    names = list(wanted) or ["connections"]

    def held(snap: Snapshot) -> dict[str, float]:
        return {n: v for n in names if (v := snap.get(n)) is not None}

    last: list[dict[str, float] | None] = [held(first) if first is not None else None]
    since = [time.monotonic()]

    def settled(snap: Snapshot) -> bool:
        now = held(snap)
        if not now or (wanted and all(now[n] == wanted[n] for n in now if n in wanted)):
            return True
        if now != last[0]:
            last[0], since[0] = now, time.monotonic()
        return time.monotonic() - since[0] >= quiet

    return wait_for_snapshot(probe, settled, timeout, poll)
