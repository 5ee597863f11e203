"""What the reference adapter refuses to read, and how such a message is described.

A wait for an answer fails at once on these (see tests/components/test_streams.py, against
real servers); here, the words: what the message is, its text shortened with URLs, secrets
and stream ids masked, and its length.
"""

from __future__ import annotations

import pytest

from wsresilience.core.streams.adapter import ReferenceAdapter, Refused, UnexpectedMessage
from wsresilience.core.streams.connection import describe_message


@pytest.mark.parametrize("message, what", [
    ("{not json", "a message that is not JSON"),
    ("[1, 2]", "a JSON list, not an object with a type"),
    ('{"type": "surprise"}', "a message of unknown type 'surprise'"),
    ('{"type": "chunk", "stream": "s"}', "a 'chunk' message with a missing or bad field (KeyError: 'seq')"),
    (b"\x00\x01", "a binary message"),
])
def test_the_reference_adapter_refuses_what_stream_1_does_not_allow(message: str | bytes, what: str) -> None:
    with pytest.raises(UnexpectedMessage) as refused:
        ReferenceAdapter().parse(message)
    assert str(refused.value) == what


def test_a_refused_message_is_described_shortened_and_masked() -> None:
    text = '{"stream": "Zx9-secret-id", "url": "wss://qa:pw@host/ws?token=abc", "pad": "' + "y" * 300
    error = UnexpectedMessage("a message that is not JSON")
    said = describe_message(text, error, "reference", hide=["Zx9-secret-id"])
    assert said.startswith("got a message that is not JSON: '{\"stream\": \"***\", \"url\": \"wss://qa:***@host/ws?token=***")
    assert said.endswith(f"…' ({len(text)} characters)")
    assert "pw@" not in said and "abc" not in said and "Zx9" not in said
    assert describe_message(b"\x00" * 7, UnexpectedMessage("a binary message"), "reference") == \
        "got a binary message (7 bytes)"


def test_an_adapter_of_ones_own_that_raises_is_named_with_its_error() -> None:
    said = describe_message("x", KeyError("sid"), "token-stream")
    assert said == "got a message the token-stream adapter cannot read (KeyError: 'sid'): 'x' (1 character)"


def test_a_refusal_reads_as_a_phrase_without_the_stream_id() -> None:
    refused = Refused("unknown-stream", "no such stream.", "RglgLIsecret", None)
    assert str(refused) == "error 'unknown-stream' (no such stream)"
    assert str(Refused("bad-request", "")) == "error 'bad-request'"
