"""Server resources over time: snapshots, a background sampler, and the leak rule.

A :class:`ResourceProbe` reads what a server holds, by resource name, from whatever the
target offers: its Prometheus endpoint first, a local process (psutil) for whatever the
metrics lack. A :class:`Sampler` thread takes snapshots every few tens of milliseconds
during a scenario, so a chart can show connections, agents and memory over time, and a
check can hold "at every sample".

The leak rule (:func:`judge_growth`): a leak is a *slope*, not a step. Take one value per
round, measured after the round has settled: ``v0`` before any load, ``v1 … vR`` after each
round. The first ``warmup`` rounds may grow the value once (allocator arenas, caches, lazily
opened files); they are judged by nothing. From ``v[warmup]`` on, the least-squares slope
per round and the net growth ``v[R] - v[warmup]`` must both stay within their tolerances.
Counts (connections, descriptors, tasks) get tolerance 0: exact. Memory gets a tolerance
because allocators keep freed memory.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from keywords.core.probes.sources import sample_process, scrape
from keywords.errors import ProbeLost, ProbeUnavailable
from keywords.core.masking import mask_url

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
        #: Sources that have answered at least once; losing one later is a failure.
        self.answered: set[str] = set()

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

    def snapshot(self, label: str = "") -> Snapshot:
        """One snapshot; raises :class:`ProbeUnavailable` when no source answers."""
        values: dict[str, float] = {}
        sources: dict[str, str] = {}
        problems: list[str] = []
        if self.metrics_url:
            try:
                samples = scrape(self.metrics_url)
            except ProbeUnavailable as exc:
                if "metrics" in self.answered:
                    raise ProbeLost(f"The server's {exc}; it answered earlier in this run.") from None
                problems.append(str(exc))
            else:
                self.answered.add("metrics")
                for resource, metric in self.metrics.items():
                    if metric in samples:
                        values[resource] = samples[metric]
                        sources[resource] = f"metric {metric}"
        if self.pid is not None:
            try:
                sample = sample_process(self.pid, self.port)
            except ProbeUnavailable as exc:
                if "process" in self.answered:
                    raise ProbeLost(f"The server process is gone: {exc}; it answered earlier in this run.") from None
                problems.append(str(exc))
            else:
                self.answered.add("process")
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


def least_squares_slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """The slope of the least-squares line through ``(xs, ys)``; 0 for fewer than 2 points."""
    n = len(xs)
    if n != len(ys):
        raise ValueError(f"Expected as many x as y values, got {n} and {len(ys)}.")
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


@dataclass(frozen=True)
class GrowthVerdict:
    """How one resource grew across rounds, judged by the leak rule."""

    resource: str
    values: tuple[float, ...]
    warmup: int
    slope: float
    growth: float
    slope_tolerance: float
    growth_tolerance: float

    @property
    def judged(self) -> tuple[float, ...]:
        """The values after warm-up, the ones the rule judges."""
        return self.values[self.warmup:]

    @property
    def warmup_step(self) -> float:
        """How much the warm-up rounds added (not judged)."""
        return self.values[self.warmup] - self.values[0]

    @property
    def leak(self) -> bool:
        """Whether the resource climbs: slope or net growth beyond tolerance."""
        return self.slope > self.slope_tolerance or self.growth > self.growth_tolerance

    def describe(self, scale: float = 1.0, unit: str = "") -> str:
        """One line for a failure message, values divided by ``scale``."""
        shown = ", ".join(f"{v / scale:.4g}" for v in self.values)
        return (
            f"{self.resource} per round [{shown}] {unit}: after {self.warmup} warm-up round(s) "
            f"slope {self.slope / scale:.4g} {unit}/round (max {self.slope_tolerance / scale:.4g}), "
            f"growth {self.growth / scale:.4g} {unit} (max {self.growth_tolerance / scale:.4g})"
        ).replace("  ", " ")


def judge_growth(
    resource: str,
    values: Sequence[float],
    warmup: int = 1,
    growth_tolerance: float = 0.0,
    slope_tolerance: float | None = None,
) -> GrowthVerdict:
    """Judge ``values`` (``v0`` before load, then one per round) by the leak rule.

    ``slope_tolerance`` defaults to ``growth_tolerance`` spread over the judged rounds, so a
    steady climb that would pass the growth bound by the last round still fails on its slope.
    Needs at least three judged values: two points always make a line.
    """
    if warmup < 0:
        raise ValueError(f"Warm-up rounds must be 0 or more, got {warmup}.")
    judged = list(values[warmup:])
    if len(judged) < 3:
        raise ValueError(
            f"Judging a slope needs at least 3 values after {warmup} warm-up round(s); "
            f"got {len(values)} value(s) in all. Run more rounds."
        )
    slope = least_squares_slope(list(range(len(judged))), judged)
    growth = judged[-1] - judged[0]
    if slope_tolerance is None:
        slope_tolerance = growth_tolerance / (len(judged) - 1)
    return GrowthVerdict(resource, tuple(float(v) for v in values), warmup, slope, growth,
                         slope_tolerance, growth_tolerance)
