"""A fault proxy in front of a ``wss://`` server: TLS upstream, plain TCP to the client.

The proxy is the TLS client of the server (verifying it with the CA it is given) and serves
plaintext to its own clients, so the WebSocket-aware toxics see frames and the server's end
(close frame, end of stream) is noted as over ``ws://``.
"""

from __future__ import annotations

import asyncio
import ssl

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from wsresilience.faultproxy import FaultProxy
from wsresilience.faultproxy.connection import Connection
from support.fp_helpers import echo_server, round_trip, run, ws_url
from support.tls_certs import TestCertificates


def server_context(certs: TestCertificates) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.cert, certs.key)
    return context


def upstream_context(certs: TestCertificates | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certs.ca) if certs else None)


def test_a_plain_client_talks_to_a_tls_server_through_the_proxy(tls_certificates: TestCertificates) -> None:
    async def scenario() -> None:
        async with echo_server(ssl=server_context(tls_certificates)) as port:
            proxy = FaultProxy("tls", upstream=f"127.0.0.1:{port}",
                               upstream_tls=upstream_context(tls_certificates))
            await proxy.start()
            try:
                async with websockets.connect(ws_url(proxy)) as ws:
                    await round_trip(ws, "through TLS")
            finally:
                await proxy.stop()

    run(scenario)


def test_frame_toxics_see_frames_behind_a_tls_upstream(tls_certificates: TestCertificates) -> None:
    """drop_pongs starves the server's keepalive: it must find the PONG frames in plaintext."""
    async def scenario() -> tuple[int | None, dict[str, float]]:
        async with echo_server(ssl=server_context(tls_certificates), ping_interval=0.2,
                               ping_timeout=0.3, close_timeout=0.3) as port:
            proxy = FaultProxy("tls", upstream=f"127.0.0.1:{port}",
                               upstream_tls=upstream_context(tls_certificates))
            await proxy.start()
            seen: list[Connection] = []
            proxy.on_connection = seen.append
            try:
                await proxy.add_toxic("drop_pongs", stream="upstream")
                async with websockets.connect(ws_url(proxy), ping_interval=None) as ws:
                    try:
                        async with asyncio.timeout(3):
                            await ws.wait_closed()
                    except ConnectionClosed:
                        pass
                    return ws.close_code, dict(seen[0].links["downstream"].peer_ends)
            finally:
                await proxy.stop()

    code, ends = run(scenario)
    assert code == 1011, f"expected the keepalive close 1011 through the proxy, got {code}"
    assert "close frame" in ends, ends


def test_an_untrusted_tls_upstream_drops_the_client(tls_certificates: TestCertificates) -> None:
    async def scenario() -> None:
        async with echo_server(ssl=server_context(tls_certificates)) as port:
            proxy = FaultProxy("tls", upstream=f"127.0.0.1:{port}", upstream_tls=upstream_context(None))
            await proxy.start()
            try:
                with pytest.raises((ConnectionClosed, OSError, websockets.InvalidHandshake)):
                    async with websockets.connect(ws_url(proxy), open_timeout=3):
                        pass
                assert proxy.upstream_failures and "CERTIFICATE_VERIFY_FAILED" in proxy.upstream_failures[-1]
            finally:
                await proxy.stop()

    run(scenario)
