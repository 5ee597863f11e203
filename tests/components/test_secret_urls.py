"""Secrets read by name: `Get Target Url` and `Get Secret Variable`, and the keywords that take them.

The URL a suite reads with `Get Target Url` prints masked everywhere Robot writes it, yet the
library must connect with the *real* one: a WebSocket server in this test (real sockets)
records the path and the Authorization header of every handshake it gets, directly and
through a proxy `Create Proxy` returns. The suites run in-process (``support.inline_suites``).
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from support.inline_suites import outcomes, run_inline

TOKEN = f"tok-{secrets.token_urlsafe(12)}"
PASSWORD = f"pw-{secrets.token_hex(6)}"
SIGNING = f"signing-{secrets.token_hex(8)}"


class RecordingServer:
    """A websockets server in a thread that keeps each handshake's path and Authorization."""

    def __init__(self) -> None:
        self.handshakes: list[tuple[str, str]] = []
        self._server: Server = serve(self._handle, "127.0.0.1", 0, process_request=self._record)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.socket.getsockname()[1]

    def _record(self, connection: ServerConnection, request: object) -> None:
        headers = request.headers  # type: ignore[attr-defined]
        self.handshakes.append((request.path, headers.get("Authorization", "")))  # type: ignore[attr-defined]

    def _handle(self, connection: ServerConnection) -> None:
        try:
            for message in connection:
                connection.send(message)
        except ConnectionClosed:  # the library's cleanup may drop the connection
            pass

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(10)


@pytest.fixture
def recorder() -> Iterator[RecordingServer]:
    with RecordingServer() as server:
        yield server


SUITE = """\
*** Settings ***
Library    wsresilience.WebSocketResilience

*** Test Cases ***
The Target Url Prints Masked
    ${url}    Get Target Url
    Should Be Equal    ${{ str($url) }}    ws://qa:***@127.0.0.1:${PORT}/ws?token=***&room=7
    Should Be Equal    ${{ $url.value }}    ${{ $WS_URL if isinstance($WS_URL, str) else $WS_URL.value }}

Connections Use The Real Url
    ${url}    Get Target Url
    Open Heartbeat Connection    ${url}    name=direct
    ${proxied}    Create Proxy    ${url}    name=in-front
    Should Be Equal    ${{ type($proxied).__name__ }}    SecretUrl
    Should Not Contain    ${{ str($proxied) }}    ${{ $url.value.split('token=')[1] }}
    Open Heartbeat Connection    ${proxied}    name=proxied

A Keyword Typed For Plain Text Refuses The Secret Url
    ${url}    Get Target Url
    Run Keyword And Expect Error    *cannot be converted to string*    Use Toxiproxy Server    ${url}

The Signing Secret Prints As Secret
    ${signing}    Get Secret Variable    AUTH_JWT_SECRET
    Should Be Equal    ${{ str($signing) }}    <secret>
    Should Be Equal    ${{ $signing.value }}    ${AUTH_JWT_SECRET}

A Value Where The Name Belongs Fails Without Repeating It
    Run Keyword And Expect Error
    ...    ValueError: Expected the name of a variable (e.g. WS_URL), got a value: pass the name *
    ...    Get Target Url    ${{ 'ws://127.0.0.1:9/?token=' + 'x' * 8 }}

A Missing Variable Is Named
    Run Keyword And Expect Error    ValueError: Expected a variable \\${NO_SUCH_URL}; none is set*
    ...    Get Target Url    NO_SUCH_URL
"""


def ws_url(port: int) -> str:
    return f"ws://qa:{PASSWORD}@127.0.0.1:{port}/ws?token={TOKEN}&room=7"


@pytest.mark.parametrize("given_as", ["text", "robot-secret"])
def test_secret_urls_print_masked_and_connect_with_the_real_value(
        tmp_path: Path, recorder: RecordingServer, given_as: str) -> None:
    """Whether WS_URL is plain text or a Robot ``Secret`` (``--variable "WS_URL: Secret:…"``)."""
    name = "WS_URL" if given_as == "text" else "WS_URL: Secret"
    rc, result = run_inline(tmp_path, SUITE, {name: ws_url(recorder.port), "PORT": recorder.port,
                                              "AUTH_JWT_SECRET": SIGNING})
    assert {n: s for n, (s, _) in outcomes(result).items()} == dict.fromkeys(outcomes(result), "PASS"), (
        outcomes(result))
    basic = "Basic " + base64.b64encode(f"qa:{PASSWORD}".encode()).decode()
    # Directly: path, token and the Basic authorization from the userinfo all arrive.
    assert recorder.handshakes[0] == (f"/ws?token={TOKEN}&room=7", basic)
    # Through the proxy: the path and token arrive (the proxy URL has no userinfo).
    assert recorder.handshakes[1][0] == f"/ws?token={TOKEN}&room=7"
    assert len(recorder.handshakes) == 2


def test_a_url_without_secrets_comes_back_as_plain_text(tmp_path: Path) -> None:
    suite = """\
*** Settings ***
Library    wsresilience.WebSocketResilience

*** Test Cases ***
Plain
    ${url}    Get Target Url
    Should Be Equal    ${url}    ws://127.0.0.1:9/ws
    ${empty}    Get Target Url    EMPTY_URL
    Should Be Equal    ${empty}    ${EMPTY}
"""
    rc, result = run_inline(tmp_path, suite, {"WS_URL": "ws://127.0.0.1:9/ws", "EMPTY_URL": ""})
    assert outcomes(result) == {"Plain": ("PASS", "")}
