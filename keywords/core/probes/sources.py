"""Server probes: what the target tells about its resources.

Two sources, whichever the target offers: a Prometheus text endpoint (``METRICS_URL``,
parsed with prometheus_client's own parser) or a local process sampled with psutil
(``SERVER_PID``: RSS, open descriptors, threads, TCP connections by state). A probe that
cannot answer raises :class:`ProbeUnavailable`, which keywords turn into SKIP with the
reason, never PASS.
"""

from __future__ import annotations

import ssl
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psutil
from prometheus_client.parser import text_string_to_metric_families

from wsresilience.core.masking import mask_url
from wsresilience.errors import ProbeUnavailable

#: What :func:`server_version` says when the target does not tell.
NOT_REPORTED = "not reported"


def server_version(target_url: str, timeout: float = 2.0, ssl_context: ssl.SSLContext | None = None) -> str:
    """What ``GET /version`` on the WebSocket URL's host answers, or ``not reported``.

    Credentials in the URL are dropped; an answer of more than one line is not a version.
    A ``wss://`` target is asked over ``https://`` with ``ssl_context`` (the target's TLS
    settings).
    """
    parts = urlsplit(target_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    url = f"{scheme}://{parts.netloc.rsplit('@', 1)[-1]}/version"
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=ssl_context) as response:  # noqa: S310
            text = response.read(200).decode("utf-8", "replace").strip()
    except (urllib.error.URLError, OSError, ValueError):
        return NOT_REPORTED
    return text if text and "\n" not in text else NOT_REPORTED


def parse_prometheus(text: str) -> dict[str, float]:
    """Sample name (with labels, if any, as ``name{a="b"}``) → value."""
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = float(sample.value)
    return samples


def scrape(url: str, timeout: float = 5.0, ssl_context: ssl.SSLContext | None = None) -> dict[str, float]:
    """Fetch and parse a Prometheus text endpoint (``https://`` verified with ``ssl_context``)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=ssl_context) as response:  # noqa: S310
            body = response.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        raise ProbeUnavailable(f"metrics endpoint {mask_url(url)} did not answer: {exc}") from None
    try:
        return parse_prometheus(body)
    except ValueError as exc:
        raise ProbeUnavailable(f"metrics endpoint {mask_url(url)} is not Prometheus text: {exc}") from None


@dataclass(frozen=True)
class ProcessSample:
    """One psutil sample of a server process."""

    t: float
    rss_bytes: int
    open_fds: int
    threads: int
    tcp_by_state: dict[str, int] = field(default_factory=dict)

    @property
    def open_connections(self) -> int:
        """TCP connections the process holds, listening sockets excluded."""
        return sum(n for state, n in self.tcp_by_state.items() if state not in ("LISTEN", "NONE"))


def sample_process(pid: int, port: int | None = None) -> ProcessSample:
    """Sample process ``pid``; count only TCP connections on local ``port`` when given."""
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            rss = proc.memory_info().rss
            fds = proc.num_fds()
            threads = proc.num_threads()
        conns = proc.net_connections(kind="tcp")
    except psutil.NoSuchProcess:
        raise ProbeUnavailable(f"no process with pid {pid}") from None
    except psutil.AccessDenied:
        raise ProbeUnavailable(f"not allowed to inspect process {pid}") from None
    states = Counter(
        c.status for c in conns if port is None or (c.laddr and c.laddr.port == port)
    )
    return ProcessSample(time.monotonic(), rss, fds, threads, dict(states))
