"""`Get Protocol Url`: the URL a client of the chosen profile opens (SERVER_COMMAND waits on it)."""

from __future__ import annotations

import pytest
from assertionengine import AssertionOperator

from wsresilience.components.protocol import ProtocolKeywords
from wsresilience.context import LibraryContext


@pytest.mark.parametrize("profile, expected", [
    ("", "ws://127.0.0.1:{port}/"),
    ("rfc6455", "ws://127.0.0.1:{port}/"),
    ("socketio", "ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"),
])
def test_the_protocol_url_keeps_the_port_placeholder(profile: str, expected: str) -> None:
    ctx = LibraryContext()
    try:
        keywords = ProtocolKeywords(ctx)
        keywords.use_protocol_profile(profile)
        assert keywords.get_protocol_url("ws://127.0.0.1:{port}/") == expected
        with pytest.raises(AssertionError, match="protocol URL"):
            keywords.get_protocol_url("ws://127.0.0.1:{port}/", AssertionOperator["=="], "ws://elsewhere/")
    finally:
        ctx.close()
