"""The protocol keywords: choosing a profile, the auth payload, skipping what a profile cannot express."""

from __future__ import annotations

from pathlib import Path

from support.inline_suites import outcomes, run_inline
from wsresilience.context import LibraryContext

SUITE = """*** Settings ***
Library    wsresilience.WebSocketResilience

*** Test Cases ***
The Default Is Reference And Skips Nothing
    Get Protocol Profile    ==    reference
    Skip Unless Protocol Speaks Reference    Session resume
    Log    still running

A Chosen Reference Profile Skips Nothing
    Use Protocol Profile    reference
    Skip Unless Protocol Speaks Reference    Session resume

A Socket.IO Profile Skips What Needs The Reference Protocol
    ${name} =    Use Protocol Profile    SocketIO
    Should Be Equal    ${name}    socketio
    Skip Unless Protocol Speaks Reference    Session resume
    Fail    not skipped

An Unknown Profile Fails Naming The Known Ones
    Use Protocol Profile    signalr

A Wrong Expectation Fails
    Use Protocol Profile    rfc6455
    Get Protocol Profile    ==    graphql-ws

The Auth Payload Is Masked
    ${payload} =    Get Secret Variable    PAYLOAD
    Use Auth Payload    ${payload}

A Payload That Is Not An Object Fails
    Use Auth Payload    ["x"]
"""


def test_protocol_keywords(tmp_path: Path) -> None:
    _, result = run_inline(tmp_path, SUITE, {"PAYLOAD": '{"token": "letmein-123", "user": "{user}"}'})
    seen = outcomes(result)
    assert seen["The Default Is Reference And Skips Nothing"][0] == "PASS"
    assert seen["A Chosen Reference Profile Skips Nothing"][0] == "PASS"
    assert seen["A Socket.IO Profile Skips What Needs The Reference Protocol"] == (
        "SKIP", "Session resume needs the reference protocol (docs/protocol.md); WS_PROTOCOL is socketio "
                "(Socket.IO 4 (Engine.IO v4): server ping 2 / client pong 3, CONNECT with auth).")
    assert seen["An Unknown Profile Fails Naming The Known Ones"] == (
        "FAIL", "ValueError: Unknown protocol profile 'signalr'; expected one of: graphql-ws, reference, "
                "rfc6455, socketio.")
    assert seen["A Wrong Expectation Fails"][0] == "FAIL"
    assert "rfc6455" in seen["A Wrong Expectation Fails"][1]
    assert seen["A Payload That Is Not An Object Fails"] == (
        "FAIL", "ValueError: WS_AUTH_PAYLOAD must be a JSON object, got a JSON list.")
    assert seen["The Auth Payload Is Masked"][0] == "PASS"
    assert "letmein-123" not in (tmp_path / "output.xml").read_text()


def test_the_auth_payload_secrets_are_masked_in_library_messages() -> None:
    ctx = LibraryContext()
    ctx.use_auth_payload('{"token": "letmein-123", "user": "{user}"}')
    assert ctx.auth_payload("alice") == {"token": "letmein-123", "user": "alice"}
    assert ctx.mask("CONNECT refused for token letmein-123, user alice") == (
        "CONNECT refused for token ***, user alice")
