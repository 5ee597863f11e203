"""ObservedConnection over ``wss://`` against a real TLS websockets server on loopback.

Over TLS the bytes in the socket are ciphertext: a frozen client must still see the server's
pings and its give-up (close frame, end of stream, reset) from the *plaintext*, with the same
verdicts as over ``ws://``. The certificate comes from a private CA (``tls_certificates``).
"""

from __future__ import annotations

import ssl

import pytest
from websockets.asyncio.server import serve

from wsresilience.core.client.connection import Behaviour, ConnState, ObservedConnection
from wsresilience.core.client.tls import client_ssl_context
from wsresilience.core.runtime.loop import LoopThread
from wsresilience.errors import OpenFailed

from support.tls_certs import TestCertificates


class TlsServer:
    """A plain websockets echo server with keepalive and TLS, on the test loop."""

    def __init__(self, lt: LoopThread, certs: TestCertificates, ping_interval: float | None,
                 ping_timeout: float = 0.3) -> None:
        self.lt = lt
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certs.cert, certs.key)

        async def echo(ws) -> None:  # noqa: ANN001
            async for message in ws:
                await ws.send(message)

        async def start():
            return await serve(echo, "127.0.0.1", 0, ssl=context, ping_interval=ping_interval,
                               ping_timeout=ping_timeout, close_timeout=0.3)

        self.server = lt.run(start(), 5, "test server to start")
        self.url = f"wss://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"

    def close(self) -> None:
        async def stop() -> None:
            self.server.close()
            await self.server.wait_closed()

        self.lt.run(stop(), 5, "test server to stop")


@pytest.fixture
def server_factory(lt: LoopThread, tls_certificates: TestCertificates):  # noqa: ANN201
    servers: list[TlsServer] = []

    def make(ping_interval: float | None, ping_timeout: float = 0.3) -> TlsServer:
        servers.append(TlsServer(lt, tls_certificates, ping_interval, ping_timeout))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def open_tls(lt: LoopThread, url: str, context: ssl.SSLContext | None) -> ObservedConnection:
    async def go() -> ObservedConnection:
        conn = ObservedConnection("c", url)
        await conn.open(5, context)
        return conn

    return lt.run(go(), 6, "open")


def wait(lt: LoopThread, conn: ObservedConnection, predicate, timeout: float = 3.0) -> bool:  # noqa: ANN001
    return lt.run(conn.wait_for(predicate, timeout), timeout + 1, "condition")


def trusted(url: str, certs: TestCertificates) -> ssl.SSLContext | None:
    return client_ssl_context(url, str(certs.ca))


def test_frozen_tls_client_sees_the_server_give_up_with_the_real_close_code(
    lt: LoopThread, server_factory, tls_certificates: TestCertificates  # noqa: ANN001
) -> None:
    server = server_factory(ping_interval=0.1, ping_timeout=0.2)
    conn = open_tls(lt, server.url, trusted(server.url, tls_certificates))
    lt.call(conn.set_behaviour, Behaviour.FROZEN)
    assert wait(lt, conn, lambda: conn.terminated_at is not None)
    assert conn.events.count("ping received") >= 1
    assert not [e for e in conn.events.of_kind("pong sent") if e.t >= conn.silent_since]
    # The close frame is read from the decrypted bytes, not from ciphertext.
    assert conn.close_code == 1011, (conn.close_code, conn.termination)
    assert conn.termination.startswith("close frame (unread) 1011"), conn.termination


def test_frozen_tls_client_answers_the_held_ping_when_responsive_again(
    lt: LoopThread, server_factory, tls_certificates: TestCertificates  # noqa: ANN001
) -> None:
    server = server_factory(ping_interval=0.1, ping_timeout=1.0)
    conn = open_tls(lt, server.url, trusted(server.url, tls_certificates))
    lt.call(conn.set_behaviour, Behaviour.FROZEN)
    assert wait(lt, conn, lambda: conn.events.count("ping received") >= 1)
    pongs_before = conn.events.count("pong sent")
    lt.call(conn.set_behaviour, Behaviour.RESPONSIVE)
    assert conn.state is ConnState.OPEN
    assert wait(lt, conn, lambda: conn.events.count("pong sent") > pongs_before)
    # Several keepalive rounds later it is still open: the held bytes reached websockets intact.
    assert wait(lt, conn, lambda: conn.events.count("pong sent") > pongs_before + 3)
    assert conn.terminated_at is None, conn.termination
    lt.run(conn.send("after the freeze"), 5, "send")
    assert lt.run(conn.receive(3), 4, "echo") == "after the freeze"
    lt.run(conn.close(), 5, "close")


def test_frozen_tls_client_sees_a_server_that_only_closes_tcp(
    lt: LoopThread, tls_certificates: TestCertificates
) -> None:
    """A server that drops the connection (no close frame) is seen as the stream's end."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_certificates.cert, tls_certificates.key)
    held: list = []

    async def handler(ws) -> None:  # noqa: ANN001
        held.append(ws)
        await ws.wait_closed()

    async def start():
        return await serve(handler, "127.0.0.1", 0, ssl=context, ping_interval=None)

    server = lt.run(start(), 5, "server")
    url = f"wss://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    try:
        conn = open_tls(lt, url, trusted(url, tls_certificates))
        lt.call(conn.set_behaviour, Behaviour.FROZEN)
        lt.call(lambda: held[0].transport.close())
        assert wait(lt, conn, lambda: conn.terminated_at is not None)
        assert conn.close_code is None
        assert "seen while frozen" in conn.termination or "closed by server" in conn.termination
    finally:
        async def stop() -> None:
            server.close()
            await server.wait_closed()

        lt.run(stop(), 5, "stop")


def test_verification_off_connects_to_an_untrusted_certificate(lt: LoopThread, server_factory) -> None:  # noqa: ANN001
    server = server_factory(ping_interval=None)
    conn = open_tls(lt, server.url, client_ssl_context(server.url, verify_tls=False))
    assert conn.is_open
    lt.run(conn.close(), 5, "close")


def test_an_untrusted_certificate_fails_in_one_line_naming_the_problem(lt: LoopThread, server_factory) -> None:  # noqa: ANN001
    server = server_factory(ping_interval=None)
    with pytest.raises(OpenFailed) as info:
        open_tls(lt, server.url, client_ssl_context(server.url, ""))
    message = str(info.value)
    assert message.startswith(f"TLS certificate verification failed for {server.url}"), message
    assert "unable to get local issuer certificate" in message and "\n" not in message
