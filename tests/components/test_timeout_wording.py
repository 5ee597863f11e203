"""A keyword that waited for something that never came says how long it waited.

Against a server that accepts connections and never answers (the echo server process,
``--silent``), and a port that accepts TCP and never answers the upgrade.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from robot.api import SkipExecution

from wsresilience.WebSocketResilience import WebSocketResilience

from support.broken_targets import silent_listener
from support.echo_server import EchoProcess

#: A server that never sends: no echo, no ping; quick to stop.
SILENT = ("--silent", "--ping-interval", "0", "--close-timeout", "0.5")


@pytest.fixture
def lib() -> Iterator[WebSocketResilience]:
    library = WebSocketResilience(timeout=timedelta(milliseconds=400))
    yield library
    library.ctx.close()


def kw(lib: WebSocketResilience, name: str, *args: object, **kwargs: object) -> object:
    return lib.run_keyword(name, list(args), kwargs)


def test_an_open_that_times_out_says_how_long_it_was_given(lib: WebSocketResilience) -> None:
    with silent_listener() as url, pytest.raises(AssertionError) as info:
        kw(lib, "open_heartbeat_connection", url)
    assert f"Opening handshake with {url} did not complete within 0.400 s" in str(info.value)


def test_a_stop_answering_request_never_answered_says_how_long_it_waited(
    lib: WebSocketResilience, echo_process: Callable[..., EchoProcess]
) -> None:
    silent = echo_process(*SILENT)
    name = kw(lib, "open_heartbeat_connection", silent.url)
    with pytest.raises(SkipExecution) as info:
        kw(lib, "make_server_stop_answering", name)
    assert "(no reply within 2 s)" in str(info.value), str(info.value)


def test_an_unanswered_resume_of_an_unknown_stream_says_how_long_it_waited(
    lib: WebSocketResilience, echo_process: Callable[..., EchoProcess]
) -> None:
    silent = echo_process(*SILENT)
    kw(lib, "connect_to_stream_service", silent.url)
    with pytest.raises(AssertionError) as info:
        kw(lib, "resume_of_unknown_stream_should_be_refused")
    # With no stream started, the probe first learns the service's epoch from a one-byte
    # stream; a silent service already fails that wait, which names the time it waited.
    assert re.search(r"Timed out after 0\.4\d\d s waiting for the answer to the start of stream "
                     r"'\(epoch probe\)' at ws://", str(info.value)), str(info.value)
