"""The Toxiproxy HTTP API, driven over real HTTP (urllib) as a Toxiproxy client would,
against ``python -m wsresilience.faultproxy --api-port 0`` running as a subprocess, with a real
websockets echo server (in a thread) behind the proxies it creates."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import connect
from websockets.sync.server import Server, ServerConnection, serve

from support.fp_api import Api, api_running


@pytest.fixture(scope="module")
def api_process() -> Iterator[tuple[subprocess.Popen[str], Api]]:
    with api_running("--seed", "1") as running:
        yield running


@pytest.fixture
def api(api_process: tuple[subprocess.Popen[str], Api]) -> Iterator[Api]:
    client = api_process[1]
    yield client
    for name in list(client.call("GET", "/proxies")[1] or {}):
        client.call("DELETE", f"/proxies/{name}")


@pytest.fixture(scope="module")
def echo_port() -> Iterator[int]:
    def echo(ws: ServerConnection) -> None:
        for message in ws:
            ws.send(message)

    server: Server = serve(echo, "127.0.0.1", 0, ping_interval=None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.socket.getsockname()[1]
    finally:
        server.shutdown()
        thread.join(timeout=5)


def rtt(port: int) -> float:
    """One echo round trip through ``127.0.0.1:port`` on a fresh connection, in seconds."""
    with connect(f"ws://127.0.0.1:{port}", open_timeout=5, close_timeout=2) as ws:
        start = time.monotonic()
        ws.send("ping")
        assert ws.recv(timeout=5) == "ping"
        return time.monotonic() - start


def listen_port(proxy: dict[str, Any]) -> int:
    return int(proxy["listen"].rsplit(":", 1)[1])


def test_version_and_empty_index(api: Api) -> None:
    status, body = api.call("GET", "/version")
    assert status == 200 and isinstance(body["version"], str)
    assert api.call("GET", "/proxies") == (200, {})


def test_proxy_lifecycle_shapes_and_codes(api: Api, echo_port: int) -> None:
    status, proxy = api.call("POST", "/proxies", {"name": "ws", "upstream": f"127.0.0.1:{echo_port}",
                                                  "listen": "127.0.0.1:0"})
    assert status == 201
    assert set(proxy) == {"name", "listen", "upstream", "enabled", "toxics"}
    assert proxy["enabled"] is True and proxy["toxics"] == []
    assert listen_port(proxy) != 0, "listen port 0 must be reported as the real port"
    assert rtt(listen_port(proxy)) < 0.1

    assert api.call("POST", "/proxies", {"name": "ws", "upstream": "127.0.0.1:1"})[0] == 409
    assert api.call("POST", "/proxies", {"upstream": "127.0.0.1:1"}) == (
        400, {"error": "missing required field: name", "status": 400})
    assert api.call("POST", "/proxies", {"name": "x"})[0] == 400
    assert api.call("GET", "/proxies")[1] == {"ws": proxy}
    assert api.call("GET", "/proxies/ws") == (200, proxy)
    assert api.call("GET", "/proxies/nope")[0] == 404

    status, disabled = api.call("POST", "/proxies/ws", {"enabled": False})
    assert status == 200 and disabled["enabled"] is False
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", listen_port(proxy)), timeout=2)
    assert api.call("POST", "/proxies/ws", {"enabled": True})[1]["enabled"] is True
    assert rtt(listen_port(proxy)) < 0.1

    assert api.call("DELETE", "/proxies/ws") == (204, None)
    assert api.call("DELETE", "/proxies/ws")[0] == 404


def test_toxic_crud_defaults_and_effect(api: Api, echo_port: int) -> None:
    proxy = api.call("POST", "/proxies", {"name": "t", "upstream": f"127.0.0.1:{echo_port}"})[1]
    port = listen_port(proxy)

    status, toxic = api.call("POST", "/proxies/t/toxics", {"type": "latency", "attributes": {"latency": 150}})
    assert status == 200
    assert toxic == {"name": "latency_downstream", "type": "latency", "stream": "downstream",
                     "toxicity": 1.0, "attributes": {"latency": 150, "jitter": 0}}
    assert rtt(port) >= 0.150 - 0.002

    assert api.call("POST", "/proxies/t/toxics", {"type": "latency"})[0] == 409
    assert api.call("POST", "/proxies/t/toxics", {"type": "nope"})[0] == 400
    assert api.call("POST", "/proxies/t/toxics", {"type": "latency", "stream": "sideways"})[0] == 400
    assert api.call("POST", "/proxies/t/toxics", {"type": "latency", "name": "l2",
                                                  "attributes": {"latency": "slow"}})[0] == 400
    assert api.call("POST", "/proxies/nope/toxics", {"type": "latency"})[0] == 404

    status, updated = api.call("POST", "/proxies/t/toxics/latency_downstream", {"attributes": {"jitter": 10}})
    assert status == 200 and updated["attributes"] == {"latency": 150, "jitter": 10}
    status, patched = api.call("PATCH", "/proxies/t/toxics/latency_downstream", {"toxicity": 0.0})
    assert status == 200 and patched["toxicity"] == 0.0
    assert rtt(port) < 0.1, "toxicity 0 must leave new connections alone"

    api.call("POST", "/proxies/t/toxics", {"type": "drop_pongs", "stream": "upstream"})
    status, toxics = api.call("GET", "/proxies/t/toxics")
    assert status == 200 and [t["name"] for t in toxics] == ["drop_pongs_upstream", "latency_downstream"]
    assert api.call("GET", "/proxies/t/toxics/drop_pongs_upstream")[1]["type"] == "drop_pongs"
    assert api.call("DELETE", "/proxies/t/toxics/drop_pongs_upstream") == (204, None)
    assert api.call("DELETE", "/proxies/t/toxics/drop_pongs_upstream")[0] == 404
    assert api.call("GET", "/proxies/t/toxics/drop_pongs_upstream")[0] == 404


def test_reset_clears_toxics_and_enables(api: Api, echo_port: int) -> None:
    port = listen_port(api.call("POST", "/proxies", {"name": "r", "upstream": f"127.0.0.1:{echo_port}"})[1])
    api.call("POST", "/proxies/r/toxics", {"type": "latency", "attributes": {"latency": 300}})
    assert rtt(port) >= 0.300 - 0.002
    api.call("POST", "/proxies/r", {"enabled": False})
    assert api.call("POST", "/reset") == (204, None)
    proxy = api.call("GET", "/proxies/r")[1]
    assert proxy["toxics"] == [] and proxy["enabled"] is True
    assert rtt(port) < 0.1


def test_populate_creates_proxies(api: Api, echo_port: int) -> None:
    status, body = api.call("POST", "/populate", [{"name": "p1", "upstream": f"127.0.0.1:{echo_port}"},
                                                  {"name": "p2", "upstream": f"127.0.0.1:{echo_port}"}])
    assert status == 201 and [p["name"] for p in body["proxies"]] == ["p1", "p2"]
    assert api.call("POST", "/populate", [{"name": "p3"}])[0] == 400


def test_bad_requests_get_clear_errors_and_the_server_survives(api: Api) -> None:
    assert api.call("GET", "/nowhere")[0] == 404
    assert api.call("PUT", "/proxies")[0] == 405
    assert api.call("GET", "/proxies", headers={"User-Agent": "Mozilla/5.0"})[0] == 403
    request = urllib.request.Request(api.url + "/proxies", data=b"{not json", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400 and "bad request body" in json.loads(caught.value.read())["error"]
    host, port = api.url.removeprefix("http://").split(":")
    for garbage in (b"\x00\xff garbage\r\n\r\n", b"GET\r\n\r\n", b"POST /proxies HTTP/1.1\r\nContent-Length: x\r\n\r\n"):
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(garbage)
            assert sock.recv(100).startswith(b"HTTP/1.1 400")
    assert api.call("GET", "/version")[0] == 200


def test_sigterm_stops_cleanly(api_process: tuple[subprocess.Popen[str], Api], echo_port: int) -> None:
    process, api = api_process
    api.call("POST", "/proxies", {"name": "last", "upstream": f"127.0.0.1:{echo_port}"})
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert "Traceback" not in process.stderr.read()  # type: ignore[union-attr]


def test_sigterm_with_a_keep_alive_client_connected_stops_without_a_traceback() -> None:
    """Go's and Python's HTTP clients keep connections alive between requests; the API must
    end such a connection quietly when it stops, not log the cancelled task's traceback."""
    with api_running() as (process, api):
        host, port = api.url.removeprefix("http://").split(":")
        client = http.client.HTTPConnection(host, int(port), timeout=5)
        try:
            client.request("GET", "/version")
            assert client.getresponse().read()
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            client.close()
        stderr = process.stderr.read()  # type: ignore[union-attr]
        assert "Traceback" not in stderr, f"expected a quiet stop, stderr was:\n{stderr}"
