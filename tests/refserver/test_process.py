"""The reference server as a real process: start-up contract, HTTP endpoints, robustness."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import pytest
from assertionengine import AssertionOperator
from websockets.sync.client import connect

from wsresilience.core.probes.sources import parse_prometheus, scrape
from wsresilience.core.servers.process import ServerProcess
from wsresilience.ReferenceServer import ReferenceServer
from wsresilience.errors import ServerStartFailed
from wsresilience.refserver.defects import DEFECTS


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    proc = ServerProcess(["--port", "0", "--ping-interval", "0.5", "--ping-timeout", "0.5",
                          "--close-timeout", "0.5"])
    proc.start(15)
    yield proc
    assert proc.stop() == 0, "the server did not shut down cleanly on SIGTERM"


def test_unknown_defect_fails_at_start_with_the_known_names() -> None:
    run = subprocess.run([sys.executable, "-m", "wsresilience.refserver", "--port", "0", "--defect", "nope"],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 2
    assert "Unknown defect 'nope'" in run.stderr
    for name in DEFECTS:
        assert name in run.stderr


def test_start_failure_is_reported_in_one_line() -> None:
    with pytest.raises(ServerStartFailed, match="Unknown defect 'nope'"):
        ServerProcess(["--port", "0", "--defect", "nope"]).start(15)


def test_health_metrics_and_version(server: ServerProcess) -> None:
    base = server.http_url.rstrip("/")
    assert urllib.request.urlopen(base + "/healthz", timeout=5).read() == b"ok\n"
    samples = scrape(base + "/metrics")
    assert samples["ws_open_connections"] == 0
    with connect(server.url) as ws:
        ws.send("hello")
        assert ws.recv(timeout=5) == "hello"
        assert scrape(base + "/metrics")["ws_open_connections"] == 1
    assert samples["process_resident_memory_bytes"] > 0


def test_malformed_input_gets_explicit_errors_and_never_crashes(server: ServerProcess) -> None:
    with connect(server.url) as ws:
        ws.send(b"\x00\xffbinary")
        assert ws.recv(timeout=5) == b"\x00\xffbinary"
        ws.send("{not json")
        assert ws.recv(timeout=5) == "{not json"
        ws.send(json.dumps({"type": "no-such-type"}))
        assert json.loads(ws.recv(timeout=5))["code"] == "unknown-type"
        ws.send(json.dumps({"type": "control", "action": "explode"}))
        assert json.loads(ws.recv(timeout=5))["code"] == "unknown-action"
        ws.send(json.dumps({"type": "control", "action": "stop-answering", "seconds": "x"}))
        assert json.loads(ws.recv(timeout=5))["code"] == "bad-request"
        ws.send(json.dumps({"type": "auth", "token": "x.y.z"}))
        assert json.loads(ws.recv(timeout=5))["code"] == "malformed-token"
    with connect(server.url) as ws:  # still serving
        ws.send(json.dumps({"type": "echo", "data": [1, 2]}))
        assert json.loads(ws.recv(timeout=5)) == {"type": "echo", "data": [1, 2]}


def test_prometheus_parser_reads_labels() -> None:
    text = '# TYPE x gauge\nx{a="1",b="2"} 3\ny 4\n'
    assert parse_prometheus(text) == {'x{a="1",b="2"}': 3.0, "y": 4.0}


def test_a_server_that_dies_early_is_reported_with_its_last_words() -> None:
    proc = ServerProcess(["--port", "0"])
    proc.start(15)
    proc.popen.kill()
    proc.popen.wait(5)
    code = proc.stop()
    assert code == -9
    assert proc.died_early.startswith("exit code -9; stderr: ")
    assert "development secret" in proc.died_early  # what it said on stderr at start


# -- the ReferenceServer keywords on the shared context ------------------------------------------


def test_the_library_stops_its_server_at_scope_end_and_masks_its_secret() -> None:
    library = ReferenceServer()
    url = library.start_reference_server()
    try:
        assert library.get_reference_server_url(AssertionOperator["^="], "ws://127.0.0.1:") == url
        assert library.get_server_metric("ws_open_connections", AssertionOperator["=="], 0) == 0
        pid = library.get_reference_server_pid()
        component = library.keywords["start_reference_server"].__self__
        assert library.ctx.mask(f"secret {component._secret}") == "secret ***"
        with pytest.raises(RuntimeError, match="already running"):
            library.start_reference_server()
    finally:
        library.ctx.close()
    with pytest.raises(RuntimeError, match="No reference server is running"):
        library.get_reference_server_pid()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_missing_metric_fails_naming_the_ones_there_are(server: ServerProcess) -> None:
    library = ReferenceServer()
    try:
        with pytest.raises(AssertionError, match=r"Metric 'nope' not found at .*; it has: .*ws_open_connections"):
            library.get_server_metric("nope", metrics_url=server.http_url.rstrip("/") + "/metrics")
    finally:
        library.ctx.close()
