"""Read what the target server holds: connections, memory, descriptors."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from assertionengine import AssertionOperator
from robot.api import SkipExecution, logger
from robot.api.deco import keyword, library

from keywords import __version__
from keywords.core.evidence.judge import check
from keywords.core.evidence.figures import Figure, figure_table
from keywords.errors import ProbeUnavailable
from keywords.core.probes.series import ResourceProbe

#: How often waits re-read the server's counts (a remote count sends no events).
POLL_INTERVAL = 0.05


@library(scope="SUITE", version=__version__, doc_format="ROBOT")
class ServerResources:
    """Probes the resources a WebSocket server holds, from outside.

    Two sources, whichever the target offers, configured with `Configure Server Probes`:

    - a Prometheus text endpoint (``METRICS_URL``), read with prometheus_client's parser;
    - a local process id (``SERVER_PID``), sampled with psutil: TCP connections on the
      server's port, RSS, descriptors, threads.

    The metrics endpoint wins when both are given. A check that needs a probe the target
    does not offer ends *SKIP with the reason*, never PASS; a probe that answered earlier
    and stops answering (the server died) *fails* the check. The reading itself is
    :class:`keywords.core.probes.series.ResourceProbe`, which the Flapping library uses too.

    Counts (connections) are compared exactly; memory gets a tolerance.
    """

    def __init__(self) -> None:
        self._probe = ResourceProbe()

    @keyword
    def configure_server_probes(
        self,
        metrics_url: str = "",
        pid: str = "",
        target_url: str = "",
        connections_metric: str = "ws_open_connections",
    ) -> None:
        """Tells the library where to read the server's resources.

        ``metrics_url`` is a Prometheus text endpoint; ``pid`` a local server process;
        ``target_url`` the WebSocket URL, whose port restricts psutil's connection count
        to that server socket; ``connections_metric`` the metric counting open
        WebSocket connections.
        """
        self._probe = ResourceProbe(
            metrics_url.strip(),
            int(pid) if str(pid).strip() else None,
            urlsplit(target_url).port if target_url else None,
            connections_metric,
        )
        logger.info(f"Server probes: {self._probe.describe()}.")

    def _open_connections(self) -> tuple[int, str]:
        """The server's open connections and where the figure came from.

        SKIPs when the target never offered a way to count them; a source that answered
        earlier and stops answering raises :class:`ProbeLost` (the server died): a failure.
        """
        if not self._probe.configured:
            raise SkipExecution(
                "The target exposes no metrics endpoint (METRICS_URL) and no process id "
                "(SERVER_PID): the server's open connections cannot be counted."
            )
        try:
            snapshot = self._probe.snapshot()
        except ProbeUnavailable as exc:
            raise SkipExecution(f"Cannot count the server's connections: {exc}.") from None
        count = snapshot.get("connections")
        if count is None:
            raise SkipExecution(
                f"Cannot count the server's connections: {self._probe.describe()} has no metric "
                f"{self._probe.metrics['connections']!r}, and psutil needs the server's port."
            )
        return int(count), snapshot.sources["connections"]

    @keyword
    def get_server_version(self, target_url: str) -> str:
        """Returns what ``GET /version`` on the target's host answers, or ``not reported``.

        The reference server answers its version there; other services usually do not,
        which is fine: the version is run metadata, not a check.
        """
        parts = urlsplit(target_url)
        scheme = "https" if parts.scheme == "wss" else "http"
        url = f"{scheme}://{parts.netloc.rsplit('@', 1)[-1]}/version"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                text = response.read(200).decode("utf-8", "replace").strip()
        except (urllib.error.URLError, OSError, ValueError):
            return "not reported"
        return text if text and "\n" not in text else "not reported"

    @keyword
    def get_open_connection_count(
        self,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: int | None = None,
        message: str | None = None,
    ) -> int:
        """Returns how many connections the server holds open, optionally asserting.

        SKIPs the test, with the reason, when no probe is configured.

        | ${baseline} =    Get Open Connection Count
        | Get Open Connection Count    ==    ${baseline}
        """
        count, _ = self._open_connections()
        return check(count, assertion_operator, assertion_expected, "server open connections",
                     "connections", "", message)

    @keyword
    def open_connection_count_should_return_to(
        self,
        baseline: int,
        timeout: timedelta = timedelta(seconds=12),
        criterion: str = "",
    ) -> float:
        """Waits until the server holds exactly ``baseline`` connections; returns the wait.

        Re-reads the count every 50 ms. Fails after ``timeout`` saying what it saw, logs
        the figure either way; SKIPs when no probe is configured.
        """
        started = time.monotonic()
        limit = timeout.total_seconds()
        while True:
            count, source = self._open_connections()
            elapsed = time.monotonic() - started
            if count == baseline or elapsed >= limit:
                break
            time.sleep(POLL_INTERVAL)  # polling a remote count: there is no event to await
        figure = Figure("server open connections after settling", count, "connections",
                        baseline, "==", criterion, note=f"{source}, after {elapsed:.2f} s")
        logger.info(figure_table([figure], "Server connections back to baseline"), html=True)
        if count != baseline:
            raise AssertionError(
                f"Expected the server to hold {baseline} open connections (baseline) within "
                f"{limit:.2f} s; it still holds {count} ({source})."
            )
        return elapsed
