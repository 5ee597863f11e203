"""pabot runs from the tests bind no fixed port, so they run beside any other pabot run.

By default pabot starts PabotLib, a remote server on port 8270. The suites take no PabotLib
locks, and a second pabot run on the same machine (another checkout, a CI job) finds the port
taken: pabot prints ``OSError: [Errno 98] Address already in use`` and ``PabotLib unreachable``
warnings. Every pabot command the tests build passes ``--no-pabotlib``; these tests hold port
8270 themselves and check that a real pabot run neither binds nor looks for it.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.signoff_fixtures import run_pabot
from support.suite_runner import run_suite

PABOTLIB_PORT = 8270
#: What pabot prints when it cannot start or reach PabotLib.
PABOTLIB_TROUBLE = ("Address already in use", "PabotLib unreachable", "pabotlib", "PabotLib")


@pytest.fixture
def port_8270_taken() -> Iterator[None]:
    """Port 8270 held by a listening socket; if another process listens on it already, so much the better.

    ``SO_REUSEADDR``, so that connections an earlier PabotLib left in TIME-WAIT do not stop the
    bind: an ``EADDRINUSE`` then means a listener really holds the port.
    """
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        holder.bind(("127.0.0.1", PABOTLIB_PORT))
        holder.listen()
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
    try:
        yield
    finally:
        holder.close()


def trouble(console: str) -> list[str]:
    """The console lines that mention PabotLib or the taken port."""
    return [line for line in console.splitlines() if any(word in line for word in PABOTLIB_TROUBLE)]


@pytest.mark.usefixtures("port_8270_taken")
def test_the_suite_runner_runs_pabot_beside_a_taken_pabotlib_port(tmp_path: Path) -> None:
    result = run_suite("ws_resilience_007_heartbeat.robot", tmp_path, include=["AC-007.4"], pabot=True)
    assert result.statuses() == {"PASS"}, result.outcomes()
    assert not trouble(result.console), f"expected no PabotLib output with port 8270 taken, found {trouble(result.console)}"


@pytest.mark.usefixtures("port_8270_taken")
def test_the_signoff_fixtures_run_pabot_beside_a_taken_pabotlib_port(tmp_path: Path) -> None:
    run_pabot(tmp_path, fail_zombie=False)
    console = (tmp_path / "pabot-console.txt").read_text(encoding="utf-8")
    assert not trouble(console), f"expected no PabotLib output with port 8270 taken, found {trouble(console)}"
