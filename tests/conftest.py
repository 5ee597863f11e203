"""Fixtures shared by the test folders; the helpers they stand on live in ``tests/support``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from support import echo_server
from support.echo_server import EchoProcess


@pytest.fixture
def echo_process() -> Iterator[Callable[..., EchoProcess]]:
    """Start third-party echo servers (``tests/support/echo_server.py``) as processes.

    ``echo_process("--ping-interval", "0.5")`` starts one with those options and returns its
    URL, port and pid; every one started is stopped when the test ends.
    """
    with ExitStack() as stack:
        yield lambda *options: stack.enter_context(echo_server.running(*options))
