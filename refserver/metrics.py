"""``/metrics`` in the Prometheus text format, with process gauges from psutil."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import psutil
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric


class ServerCollector:
    """Collects the server's gauges and counters at scrape time."""

    def __init__(self) -> None:
        self.gauges: dict[str, tuple[str, Callable[[], float]]] = {}
        self.counters: dict[str, tuple[str, Callable[[], float]]] = {}
        self._process = psutil.Process()

    def gauge(self, name: str, doc: str, read: Callable[[], float]) -> None:
        """Register a gauge read by ``read()`` at each scrape."""
        self.gauges[name] = (doc, read)

    def counter(self, name: str, doc: str, read: Callable[[], float]) -> None:
        """Register a counter (name without ``_total``) read at each scrape."""
        self.counters[name] = (doc, read)

    def collect(self) -> Iterator[Metric]:
        for name, (doc, read) in self.gauges.items():
            yield GaugeMetricFamily(name, doc, value=read())
        for name, (doc, read) in self.counters.items():
            yield CounterMetricFamily(name, doc, value=read())
        with self._process.oneshot():
            yield GaugeMetricFamily(
                "process_resident_memory_bytes", "Resident memory size in bytes.",
                value=self._process.memory_info().rss,
            )
            yield GaugeMetricFamily(
                "process_open_fds", "Open file descriptors.", value=self._process.num_fds()
            )
            yield GaugeMetricFamily(
                "process_threads", "OS threads.", value=self._process.num_threads()
            )


def asyncio_task_count() -> float:
    """Tasks alive on the running loop (call from the loop thread)."""
    return float(len(asyncio.all_tasks()))


def render(collector: ServerCollector) -> bytes:
    """The Prometheus text exposition of ``collector``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)  # type: ignore[arg-type]
    return generate_latest(registry)
