"""Resource probes: Prometheus parsing, psutil sampling, snapshots, waiting until settled.

The leak rule is in test_leaks.py."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator

import pytest

from wsresilience.core.probes.series import (
    MB,
    ResourceProbe,
    Sampler,
    Snapshot,
    counts_of,
    resource_names,
    wait_until_settled,
)
from wsresilience.core.probes.sources import parse_prometheus, sample_process
from wsresilience.errors import ProbeLost, ProbeUnavailable

METRICS_TEXT = """\
# HELP ws_open_connections Open WebSocket connections held by the server.
# TYPE ws_open_connections gauge
ws_open_connections 3.0
# HELP ws_agent_instances Live agent instances.
# TYPE ws_agent_instances gauge
ws_agent_instances 2.0
# HELP ws_connections_total WebSocket connections accepted.
# TYPE ws_connections_total counter
ws_connections_total 41.0
# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 3.145728e+07
# TYPE http_requests counter
http_requests_total{code="200",method="get"} 7.0
"""


@pytest.fixture
def metrics_url() -> Iterator[str]:
    """A real HTTP server on loopback (port 0) serving ``METRICS_TEXT`` at /metrics."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = METRICS_TEXT.encode()
            self.send_response(200 if self.path == "/metrics" else 404)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/metrics"
    finally:
        server.shutdown()
        server.server_close()


def test_prometheus_text_is_parsed_with_labels_and_counters() -> None:
    samples = parse_prometheus(METRICS_TEXT)
    assert samples["ws_open_connections"] == 3
    assert samples["ws_connections_total"] == 41
    assert samples["process_resident_memory_bytes"] == 31457280
    assert samples['http_requests_total{code="200",method="get"}'] == 7


def test_malformed_metrics_text_is_rejected() -> None:
    with pytest.raises(ValueError):
        parse_prometheus("this is { not prometheus\n")


def test_probe_reads_resources_by_name_from_a_metrics_endpoint(metrics_url: str) -> None:
    snap = ResourceProbe(metrics_url).snapshot("now")
    assert snap.get("connections") == 3
    assert snap.get("agents") == 2
    assert snap.get("rss_bytes") == 30 * MB
    assert snap.get("tasks") is None  # not exposed: absent, never zero
    assert snap.sources["connections"] == "metric ws_open_connections"
    assert "rss=30.0 MB" in str(snap)


def test_probe_fills_what_metrics_lack_from_psutil(metrics_url: str) -> None:
    snap = ResourceProbe(metrics_url, pid=os.getpid(), port=1).snapshot()
    assert snap.sources["rss_bytes"].startswith("metric")  # metrics win
    assert snap.sources["fds"].startswith("psutil")
    assert snap.get("fds") and snap.get("fds") > 0


def test_psutil_sampling_sees_a_new_descriptor() -> None:
    before = sample_process(os.getpid())
    fd = os.open(os.devnull, os.O_RDONLY)
    try:
        during = sample_process(os.getpid())
    finally:
        os.close(fd)
    assert during.open_fds == before.open_fds + 1
    assert during.rss_bytes > 0 and during.threads >= 1


def test_missing_sources_say_why() -> None:
    with pytest.raises(ProbeUnavailable, match="did not answer"):
        ResourceProbe("http://127.0.0.1:9/metrics").snapshot()
    with pytest.raises(ProbeUnavailable, match="no process"):
        ResourceProbe(pid=2**22 + 12345).snapshot()
    with pytest.raises(ProbeUnavailable, match="METRICS_URL"):
        ResourceProbe().snapshot()


def test_sampler_collects_a_time_series(metrics_url: str) -> None:
    sampler = Sampler(ResourceProbe(metrics_url), interval=0.01).start()
    snaps = []
    while len(sampler.snapshots) < 5:
        threading.Event().wait(0.01)
    snaps = sampler.stop()
    assert len(snaps) >= 6  # first, at least 4 in the background, last
    assert [s.t for s in snaps] == sorted(s.t for s in snaps)
    assert sampler.failed == 0


def test_a_source_lost_mid_run_is_a_failure_not_a_skip() -> None:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = METRICS_TEXT.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    probe = ResourceProbe(f"http://127.0.0.1:{server.server_address[1]}/metrics")
    assert probe.snapshot().get("connections") == 3
    server.shutdown()
    server.server_close()
    with pytest.raises(ProbeLost, match="answered earlier"):
        probe.snapshot()


def test_resource_names_are_checked() -> None:
    assert resource_names("fds, tasks,") == ["fds", "tasks"]
    assert resource_names(["rss_bytes"]) == ["rss_bytes"]
    with pytest.raises(ValueError, match="Unknown resource.*memory; known: connections"):
        resource_names("fds, memory")


def test_a_probe_is_built_from_the_text_a_suite_has() -> None:
    probe = ResourceProbe.for_target(" http://h:9/metrics ", "42", "ws://user:pw@h:8765/ws", "my_conns")
    assert (probe.metrics_url, probe.pid, probe.port) == ("http://h:9/metrics", 42, 8765)
    assert probe.metrics["connections"] == "my_conns"
    assert not ResourceProbe.for_target().configured
    assert ResourceProbe.for_target(pid=" ").pid is None


def test_snapshot_deltas_cover_what_both_hold() -> None:
    before = Snapshot(0.0, {"connections": 3.0, "fds": 10.0, "tasks": 4.0})
    after = Snapshot(1.0, {"connections": 5.0, "fds": 9.0})
    assert after.deltas_since(before) == {"connections": 2.0, "fds": -1.0}
    assert after.labelled("after").label == "after"


class _Counts:
    """A probe stand-in whose connection count follows a script, then stays at its last value."""

    def __init__(self, counts: list[float | None]) -> None:
        self.counts = counts
        self.reads = 0

    def snapshot(self, label: str = "") -> Snapshot:
        value = self.counts[min(self.reads, len(self.counts) - 1)]
        self.reads += 1
        return Snapshot(float(self.reads), {} if value is None else {"connections": value}, label=label)


def test_settling_ends_at_the_baseline_count() -> None:
    snap, settled = wait_until_settled(_Counts([7, 5, 3]), 3, quiet=10, timeout=5, poll=0.001)
    assert settled and snap.get("connections") == 3


def test_settling_ends_when_the_count_stops_changing() -> None:
    probe = _Counts([7, 6, 6])
    snap, settled = wait_until_settled(probe, 0, quiet=0.05, timeout=5, poll=0.01)
    assert settled and snap.get("connections") == 6 and probe.reads > 3


def test_settling_gives_up_after_the_timeout_and_says_so() -> None:
    probe = _Counts(list(range(1, 1000)))
    snap, settled = wait_until_settled(probe, 0, quiet=1, timeout=0.05, poll=0.005)
    assert not settled and snap.get("connections") is not None


def test_settling_without_a_connection_count_does_not_wait() -> None:
    snap, settled = wait_until_settled(_Counts([None]), 0, quiet=1, timeout=5)
    assert settled and snap.get("connections") is None


class _Scripted:
    """A probe stand-in whose snapshots follow a script, then stay at the last one."""

    def __init__(self, *values: dict[str, float]) -> None:
        self.values = values
        self.reads = 0

    def snapshot(self, label: str = "") -> Snapshot:
        value = self.values[min(self.reads, len(self.values) - 1)]
        self.reads += 1
        return Snapshot(float(self.reads), dict(value), label=label)


def test_settling_waits_for_every_wanted_count_not_just_connections() -> None:
    baseline = Snapshot(0.0, {"connections": 0, "fds": 19, "rss_bytes": 50 * MB})
    assert counts_of(baseline) == {"connections": 0, "fds": 19}
    probe = _Scripted({"connections": 0, "fds": 20}, {"connections": 0, "fds": 20}, {"connections": 0, "fds": 19})
    snap, settled = wait_until_settled(probe, counts_of(baseline), quiet=10, timeout=5, poll=0.001)
    assert settled and snap.get("fds") == 19 and probe.reads == 3


def test_settling_ends_when_no_wanted_count_changes_any_more() -> None:
    probe = _Scripted({"connections": 3, "fds": 30}, {"connections": 0, "fds": 25})
    snap, settled = wait_until_settled(probe, {"connections": 0, "fds": 19}, quiet=0.05, timeout=5, poll=0.01)
    assert settled and snap.get("fds") == 25 and probe.reads > 3
