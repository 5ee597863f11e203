"""NetworkFaults driven as Python: keywords called as methods, real sockets end to end.

A websockets echo server runs in its own thread and loop; clients are websockets' sync
clients; the library runs its proxies in-process (the core loop) or on a real
``python -m wsresilience.faultproxy --api-port 0`` subprocess (TOXIPROXY_URL mode).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from assertionengine import AssertionOperator
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

import wsresilience.faultproxy.api
from wsresilience.faultproxy import ProxyCollection
from wsresilience.faultproxy.api import ApiServer
from wsresilience.core.masking import SecretUrl
from wsresilience.NetworkFaults import NetworkFaults

from support import REPO

MS = timedelta(milliseconds=1)


class ServerThread:
    """An asyncio loop in a thread running websockets servers (and a fake API) for a test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._servers: list[Any] = []
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def echo(self, **kwargs: Any) -> int:
        """Start a websockets echo server (keepalive off unless given); return its port."""
        kwargs.setdefault("ping_interval", None)

        async def echo(ws: Any) -> None:
            async for message in ws:
                await ws.send(message)

        async def start() -> int:
            server = await serve(echo, "127.0.0.1", 0, **kwargs)
            self._servers.append(server)
            return int(server.sockets[0].getsockname()[1])

        return int(self.run(start()))

    def stop(self) -> None:
        async def close_all() -> None:
            for server in self._servers:
                server.close()
                await server.wait_closed()
            self._servers.clear()

        self.run(close_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def servers() -> Iterator[ServerThread]:
    thread = ServerThread()
    yield thread
    thread.stop()


@pytest.fixture(scope="module")
def toxiproxy_api() -> Iterator[str]:
    """A real ``python -m wsresilience.faultproxy --api-port 0`` process; yields its URL."""
    proc = subprocess.Popen([sys.executable, "-m", "wsresilience.faultproxy", "--api-port", "0"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            line = pool.submit(proc.stdout.readline).result(timeout=15)  # type: ignore[union-attr]
        assert "listening on http://" in line, f"expected the API's first line, got {line!r}"
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        proc.terminate()
        assert proc.wait(10) == 0, "python -m wsresilience.faultproxy did not exit 0 on SIGTERM"


@pytest.fixture(params=["in-process", "toxiproxy-api"])
def lib(request: pytest.FixtureRequest) -> Iterator[NetworkFaults]:
    url = request.getfixturevalue("toxiproxy_api") if request.param == "toxiproxy-api" else ""
    library = NetworkFaults(toxiproxy_url=url, timeout="5 s")
    yield library
    library.ctx.close()


def round_trip(ws: ClientConnection, message: str = "hello", timeout: float = 5.0) -> float:
    started = time.monotonic()
    ws.send(message)
    assert ws.recv(timeout=timeout) == message
    return time.monotonic() - started


def test_create_proxy_keeps_path_and_query_on_loopback(lib: NetworkFaults, servers: ServerThread) -> None:
    port = servers.echo()
    proxied = lib.create_proxy(f"ws://localhost:{port}/chat/room?x=1&token=abc", name="p")
    # It carries the token, so it comes back as a secret URL that Robot logs masked.
    assert isinstance(proxied, SecretUrl) and str(proxied).endswith("/chat/room?x=1&token=***")
    url = proxied.value
    assert url.startswith("ws://127.0.0.1:") and url.endswith("/chat/room?x=1&token=abc")
    assert int(url.split(":")[2].split("/")[0]) not in (0, port)
    with connect(url) as ws:
        round_trip(ws)


def test_latency_is_added_within_tolerance(lib: NetworkFaults, servers: ServerThread) -> None:
    url = lib.create_proxy(f"ws://127.0.0.1:{servers.echo()}/", name="slow")
    with connect(url, compression=None) as ws:
        direct = statistics.median(round_trip(ws) for _ in range(5))
        name = lib.add_latency("slow", 100 * MS, direction="downstream")
        assert name == "latency_downstream"
        delayed = statistics.median(round_trip(ws) for _ in range(5))
    added = delayed - direct
    assert 0.095 <= added <= 0.150, f"expected about 100 ms added, measured {added * 1000:.1f} ms"


def test_blackhole_gives_no_reply_and_no_close(lib: NetworkFaults, servers: ServerThread) -> None:
    url = lib.create_proxy(f"ws://127.0.0.1:{servers.echo()}/", name="void")
    with connect(url, close_timeout=0.2) as ws:
        round_trip(ws)
        assert lib.blackhole_proxy("void") == ["blackhole_upstream", "blackhole_downstream"]
        ws.send("anyone?")
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)  # no reply, and no close either (that would raise ConnectionClosed)
        assert ws.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] == 1, "expected ESTABLISHED"


def test_reset_breaks_open_connections(lib: NetworkFaults, servers: ServerThread) -> None:
    url = lib.create_proxy(f"ws://127.0.0.1:{servers.echo()}/", name="rst")
    with connect(url) as ws:
        round_trip(ws)
        count = lib.reset_connections("rst")
        assert count in (1, None)  # None: unknown over the HTTP API
        with pytest.raises(ConnectionClosed) as caught:
            ws.recv(timeout=3)
        assert caught.value.rcvd is None, "a reset carries no close frame"
    with connect(url) as ws:  # new connections are not affected
        round_trip(ws)


def test_disabled_refuses_and_enabled_works_again(lib: NetworkFaults, servers: ServerThread) -> None:
    url = lib.create_proxy(f"ws://127.0.0.1:{servers.echo()}/", name="down")
    lib.disable_proxy("down")
    with pytest.raises(ConnectionRefusedError):
        connect(url, open_timeout=3)
    lib.enable_proxy(url)  # by URL as well as by name
    with connect(url) as ws:
        round_trip(ws)


def test_remove_all_faults_clears_every_fault(lib: NetworkFaults, servers: ServerThread) -> None:
    url = lib.create_proxy(f"ws://127.0.0.1:{servers.echo()}/", name="heal")
    lib.add_latency("heal", 300 * MS, jitter=50 * MS, direction="both")
    lib.limit_bandwidth("heal", "64 KB/s")
    faults = lib.get_proxy_faults("heal")
    assert [(f["name"], f["attributes"]) for f in faults] == [
        ("latency_upstream", {"latency": 300, "jitter": 50}),
        ("latency_downstream", {"latency": 300, "jitter": 50}),
        ("bandwidth_downstream", {"rate": 64}),
    ]
    assert lib.remove_all_faults("heal") == 3
    assert lib.get_proxy_faults("heal") == []
    with connect(url) as ws:
        assert round_trip(ws) < 0.1


def test_flap_returns_down_and_ends_up(lib: NetworkFaults, servers: ServerThread) -> None:
    url = lib.create_proxy(f"ws://127.0.0.1:{servers.echo()}/", name="flappy")
    lib.flap_proxy("flappy", down=200 * MS, up=100 * MS, times=2)
    with pytest.raises(ConnectionRefusedError):
        connect(url, open_timeout=3)
    lib.wait_until_proxy_stops_flapping("flappy", timeout=timedelta(seconds=5))
    with connect(url) as ws:
        round_trip(ws)


def test_bad_input_fails_in_one_line(lib: NetworkFaults, servers: ServerThread) -> None:
    with pytest.raises(ValueError, match="Expected a ws:// or wss:// target URL"):
        lib.create_proxy("http://127.0.0.1:1/")
    lib.create_proxy(f"ws://127.0.0.1:{servers.echo()}/", name="p")
    with pytest.raises(ValueError, match="No proxy named 'nope'; known: p."):
        lib.add_latency("nope", 10 * MS)
    with pytest.raises(ValueError, match="direction upstream, downstream or both"):
        lib.add_latency("p", 10 * MS, direction="sideways")
    with pytest.raises(AssertionError) as caught:
        lib.add_latency("p", 10 * MS, toxicity=2)
    assert "toxicity" in str(caught.value) and "\n" not in str(caught.value)


def test_websocket_aware_faults_work_on_our_api(lib: NetworkFaults, servers: ServerThread) -> None:
    url = lib.create_proxy(f"ws://127.0.0.1:{servers.echo()}/", name="frames")
    lib.duplicate_frame("frames", frame=1)
    with connect(url, compression=None) as ws:
        ws.send("once")
        assert [ws.recv(timeout=3), ws.recv(timeout=3)] == ["once", "once"]


@pytest.mark.parametrize("profile", ["reference", "socketio", "graphql-ws"])
def test_drop_pong_frames_passes_the_profile_s_matcher(lib: NetworkFaults, servers: ServerThread,
                                                       profile: str) -> None:
    """In process and over the Toxiproxy API alike, the fault carries the profile's matcher."""
    lib.ctx.use_profile(profile)
    lib.create_proxy(f"ws://127.0.0.1:{servers.echo()}/", name="pongs")
    lib.drop_pong_frames("pongs")
    expected = {"reference": "control", "socketio": "socketio", "graphql-ws": "graphql-ws"}[profile]
    assert [f["attributes"] for f in lib.get_proxy_faults("pongs")] == [{"matcher": expected}]


def test_scope_end_stops_every_proxy(servers: ServerThread) -> None:
    library = NetworkFaults()
    url = library.create_proxy(f"ws://127.0.0.1:{servers.echo()}/", name="gone")
    with connect(url, close_timeout=0.2) as ws:
        library.blackhole_proxy("gone")
        library.ctx.close()
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=3)  # the proxy's connections are cut
    with pytest.raises(ConnectionRefusedError):
        connect(url, open_timeout=3)
    assert not any(t.name == "wsresilience-loop" for t in threading.enumerate())


# -- observing the server through a blackhole (in-process) ---------------------------------


def test_server_ending_a_blackholed_connection_is_seen_upstream(servers: ServerThread) -> None:
    library = NetworkFaults()
    try:
        url = library.create_proxy(f"ws://127.0.0.1:{servers.echo(ping_interval=0.2, ping_timeout=0.2)}/")
        with connect(url, close_timeout=0.2):
            library.blackhole_proxy("proxy-1")
            took = library.upstream_should_be_closed_by_server_within("proxy-1", timedelta(seconds=1))
        assert 0.2 <= took <= 0.6, f"expected the server's keepalive to end it after ~0.2–0.4 s, took {took:.3f} s"
    finally:
        library.ctx.close()


def test_a_server_that_never_gives_up_fails_in_one_line(servers: ServerThread) -> None:
    library = NetworkFaults()
    try:
        url = library.create_proxy(f"ws://127.0.0.1:{servers.echo()}/", name="deaf")
        with connect(url, close_timeout=0.2):
            library.blackhole_proxy("deaf")
            started = time.monotonic()
            with pytest.raises(AssertionError) as caught:
                library.upstream_should_be_closed_by_server_within("deaf", timedelta(milliseconds=400))
            assert time.monotonic() - started < 1.5
            library.remove_all_faults()
    finally:
        library.ctx.close()
    message = str(caught.value)
    assert "\n" not in message
    assert "within 0.400 s of the fault; 1 of 1 got no close frame, FIN or RST" in message


# -- a Toxiproxy that is not ours --------------------------------------------------------


def test_websocket_aware_faults_fail_plainly_on_a_real_toxiproxy(
    servers: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wsresilience.faultproxy.api, "VERSION", "2.9.0")  # what Shopify's Toxiproxy answers
    api = ApiServer(ProxyCollection(), port=0)
    servers.run(api.start())
    library = NetworkFaults(toxiproxy_url=api.url)
    try:
        library.create_proxy(f"ws://127.0.0.1:{servers.echo()}/", name="plain")
        assert library.add_latency("plain", 10 * MS) == "latency_downstream"  # Toxiproxy toxics work
        with pytest.raises(AssertionError) as caught:
            library.drop_pong_frames("plain")
        message = str(caught.value)
        assert "drop_pongs fault is WebSocket-aware and only faultproxy has it" in message
        assert "version '2.9.0'" in message and "\n" not in message
    finally:
        library.ctx.close()
        servers.run(api.stop())


# -- the shared context: handles, look-ups, one-line failures -----------------------------


def test_proxies_live_in_the_context_and_leave_it_at_scope_end(servers: ServerThread) -> None:
    library = NetworkFaults()
    try:
        url = library.create_proxy(f"ws://127.0.0.1:{servers.echo()}/")
        assert library.ctx.proxies.names() == ["proxy-1"]
        assert library.ctx.proxies.get("proxy-1").serves(url)
    finally:
        library.ctx.close()
    assert library.ctx.proxies.names() == []


def test_a_miss_by_url_is_the_registry_s_with_the_url_masked(servers: ServerThread) -> None:
    library = NetworkFaults()
    try:
        library.create_proxy(f"ws://127.0.0.1:{servers.echo()}/", name="p")
        with pytest.raises(ValueError) as caught:
            library.enable_proxy("ws://127.0.0.1:1/chat?token=s3cret")
        assert str(caught.value) == "No proxy named 'ws://127.0.0.1:1/chat?token=***'; known: p."
    finally:
        library.ctx.close()


def test_a_backend_error_is_one_line_naming_the_proxy(servers: ServerThread) -> None:
    library = NetworkFaults()
    try:
        library.create_proxy(f"ws://127.0.0.1:{servers.echo()}/", name="p")
        with pytest.raises(AssertionError) as caught:
            library.add_latency("p", 10 * MS, toxicity=2)
        assert str(caught.value).startswith("Cannot add latency to proxy 'p' (in-process): ")
        assert type(caught.value).ROBOT_SUPPRESS_NAME is True
    finally:
        library.ctx.close()


def test_use_toxiproxy_server_switches_and_returns_the_previous_api(toxiproxy_api: str) -> None:
    library = NetworkFaults()
    try:
        assert library.use_toxiproxy_server(toxiproxy_api) == ""
        assert library.ctx.toxiproxy_url == toxiproxy_api
        assert library.use_toxiproxy_server("") == toxiproxy_api
        assert library.ctx.toxiproxy_url == ""
    finally:
        library.ctx.close()


def test_get_proxy_faults_can_assert(servers: ServerThread) -> None:
    library = NetworkFaults()
    try:
        library.create_proxy(f"ws://127.0.0.1:{servers.echo()}/", name="p")
        assert library.get_proxy_faults("p", AssertionOperator["=="], []) == []
        library.add_latency("p", 10 * MS)
        with pytest.raises(AssertionError, match="no faults expected"):
            library.get_proxy_faults("p", AssertionOperator["=="], [], message="no faults expected")
    finally:
        library.ctx.close()
