"""ObservedConnection against real websockets servers on loopback: behaviours, heartbeat,
failures in one line, and clean shutdown."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import psutil
import pytest
from websockets.asyncio.server import serve

from wsresilience.core.client.connection import Behaviour, ConnState, ObservedConnection
from wsresilience.errors import OpenFailed
from wsresilience.core.runtime.loop import LoopThread


class Server:
    """A plain websockets echo server with keepalive, on the test loop."""

    def __init__(self, lt: LoopThread, ping_interval: float | None, ping_timeout: float = 0.3) -> None:
        self.lt = lt

        async def echo(ws) -> None:  # noqa: ANN001
            async for message in ws:
                await ws.send(message)

        async def start():
            return await serve(echo, "127.0.0.1", 0, ping_interval=ping_interval,
                               ping_timeout=ping_timeout, close_timeout=0.3)

        self.server = lt.run(start(), 5, "test server to start")
        self.url = f"ws://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"

    def close(self) -> None:
        async def stop() -> None:
            self.server.close()
            await self.server.wait_closed()

        self.lt.run(stop(), 5, "test server to stop")


def close_server(lt: LoopThread, server) -> None:  # noqa: ANN001
    """Close a websockets server from the loop it runs on (never from this thread)."""

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    lt.run(stop(), 5, "test server to stop")


def open_conn(lt: LoopThread, url: str, name: str = "c") -> ObservedConnection:
    async def go() -> ObservedConnection:
        conn = ObservedConnection(name, url)
        await conn.open(5)
        return conn

    return lt.run(go(), 6, "open")


def wait(lt: LoopThread, conn: ObservedConnection, predicate, timeout: float = 3.0) -> bool:  # noqa: ANN001
    return lt.run(conn.wait_for(predicate, timeout), timeout + 1, "condition")


def test_responsive_client_answers_every_ping(lt: LoopThread) -> None:
    server = Server(lt, ping_interval=0.1)
    try:
        conn = open_conn(lt, server.url)
        assert wait(lt, conn, lambda: conn.events.count("ping received") >= 3)
        assert conn.events.count("pong sent") >= 3
        assert conn.events.count("pong suppressed") == 0
        assert conn.state is ConnState.OPEN
        lt.run(conn.close(), 5, "close")
    finally:
        server.close()


def test_no_pong_client_is_terminated_and_sees_the_close_code(lt: LoopThread) -> None:
    server = Server(lt, ping_interval=0.1, ping_timeout=0.2)
    try:
        conn = open_conn(lt, server.url)
        lt.call(conn.set_behaviour, Behaviour.NO_PONG)
        assert conn.state is ConnState.SILENT and conn.silent_since is not None
        assert wait(lt, conn, lambda: conn.terminated_at is not None)
        assert conn.events.count("pong suppressed") >= 1
        assert conn.close_code == 1011
        assert conn.close_reason == "keepalive ping timeout"
        took = conn.terminated_at - conn.silent_since
        assert took <= 0.1 + 0.2 + 0.25, took
    finally:
        server.close()


def test_frozen_client_reads_nothing_yet_sees_the_server_give_up(lt: LoopThread) -> None:
    server = Server(lt, ping_interval=0.1, ping_timeout=0.2)
    try:
        conn = open_conn(lt, server.url)
        lt.call(conn.set_behaviour, Behaviour.FROZEN)
        assert wait(lt, conn, lambda: conn.terminated_at is not None)
        assert conn.events.count("pong sent") == 0 or all(
            e.t < conn.silent_since for e in conn.events.of_kind("pong sent")
        )
        assert "unread" in conn.termination or "frozen" in conn.termination
        assert conn.close_code == 1011  # read from the unread bytes, without reading them
    finally:
        server.close()


def test_frozen_then_responsive_answers_the_waiting_ping(lt: LoopThread) -> None:
    server = Server(lt, ping_interval=0.1, ping_timeout=1.0)
    try:
        conn = open_conn(lt, server.url)
        lt.call(conn.set_behaviour, Behaviour.FROZEN)
        assert wait(lt, conn, lambda: conn.events.count("ping received") >= 1)
        pongs_before = conn.events.count("pong sent")
        lt.call(conn.set_behaviour, Behaviour.RESPONSIVE)
        assert conn.state is ConnState.OPEN and conn.silent_since is None
        assert wait(lt, conn, lambda: conn.events.count("pong sent") > pongs_before)
        assert conn.terminated_at is None
        lt.run(conn.close(), 5, "close")
    finally:
        server.close()


def test_client_heartbeat_measures_rtt_and_flags_a_silent_server(lt: LoopThread) -> None:
    paused = threading.Event()

    async def handler(ws) -> None:  # noqa: ANN001
        async for message in ws:
            if message == "stop":
                ws.transport.pause_reading()
                paused.set()

    async def start():
        return await serve(handler, "127.0.0.1", 0, ping_interval=None, close_timeout=0.5)

    server = lt.run(start(), 5, "server")
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    try:
        conn = open_conn(lt, url)
        lt.call(conn.start_heartbeat, 0.05, 0.2)
        assert wait(lt, conn, lambda: len(conn.rtts_ms) >= 3)
        assert all(0 < r < 100 for r in conn.rtts_ms)
        lt.run(conn.send("stop"), 2, "send")
        assert paused.wait(2)
        stopped = time.monotonic()
        assert wait(lt, conn, lambda: conn.server_unresponsive_at is not None)
        assert conn.server_unresponsive_at - stopped <= 0.05 + 0.2 + 0.25
        lt.run(conn.close(), 5, "close")
    finally:
        close_server(lt, server)


def test_messages_are_recorded_with_secrets_masked(lt: LoopThread) -> None:
    server = Server(lt, ping_interval=None)
    try:
        conn = open_conn(lt, server.url)
        conn.secrets.append("s3cr3t-token")
        lt.run(conn.send('{"token": "s3cr3t-token"}'), 2, "send")
        assert lt.run(conn.receive(2), 3, "echo") == '{"token": "s3cr3t-token"}'
        details = " ".join(e.detail for e in conn.events.snapshot())
        assert "s3cr3t-token" not in details and "***" in details
        lt.run(conn.close(), 5, "close")
    finally:
        server.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ws://127.0.0.1:{free_port}/", "Connection refused by ws://127.0.0.1:"),
        ("http://not-a-websocket-url", "is not a valid ws:// or wss:// URL"),
        ("ws://no-such-host.invalid/", "Cannot resolve the host"),
    ],
)
def test_open_failures_say_why_in_one_line(lt: LoopThread, url: str, expected: str) -> None:
    url = url.replace("{free_port}", str(free_port()))  # chosen when run: test ids stay stable
    with pytest.raises(OpenFailed) as info:
        open_conn(lt, url)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_an_http_endpoint_that_is_not_websocket_names_its_status(lt: LoopThread) -> None:
    async def not_found(connection, request):  # noqa: ANN001
        return connection.respond(404, "nothing here\n")

    async def start():
        async def never_called(ws) -> None:  # noqa: ANN001
            raise AssertionError("the handshake was refused; no handler runs")

        return await serve(never_called, "127.0.0.1", 0, process_request=not_found)

    server = lt.run(start(), 5, "server")
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(OpenFailed, match="answered HTTP 404"):
            open_conn(lt, f"ws://127.0.0.1:{port}/?token=abc")
    finally:
        close_server(lt, server)


def test_closing_leaves_no_sockets_tasks_or_threads() -> None:
    before_threads = {t.name for t in threading.enumerate()}
    runner = LoopThread(name="leak-test-loop")
    runner.start()
    server = Server(runner, ping_interval=0.1)
    conns = [open_conn(runner, server.url, f"c{i}") for i in range(5)]
    runner.call(conns[0].set_behaviour, Behaviour.FROZEN)
    runner.call(conns[1].set_behaviour, Behaviour.NO_PONG)
    runner.call(conns[2].start_heartbeat, 0.05, 0.2)

    async def close_all() -> int:
        await asyncio.gather(*(c.close() for c in conns))
        await asyncio.sleep(0)  # let transports finish closing
        return len([t for t in asyncio.all_tasks() if t is not asyncio.current_task()])

    runner.run(close_all(), 10, "close all")
    server.close()

    async def remaining_tasks() -> int:
        return len([t for t in asyncio.all_tasks() if t is not asyncio.current_task()])

    assert runner.run(remaining_tasks(), 2, "tasks") == 0
    runner.stop()
    mine = [c for c in psutil.Process().net_connections(kind="tcp")
            if c.status == psutil.CONN_ESTABLISHED and c.raddr and c.raddr.port == int(server.url.rsplit(":", 1)[1].strip("/"))]
    assert mine == []
    assert {t.name for t in threading.enumerate()} <= before_threads
