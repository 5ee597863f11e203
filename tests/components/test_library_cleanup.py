"""At suite end the libraries close every connection and stop the loop: nothing is left."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import psutil
import robot

from support.echo_server import EchoProcess

SUITE = """*** Settings ***
Library    wsresilience.Heartbeat    AS    Heartbeat

*** Test Cases ***
Leave Connections Open On Purpose
    ${conns}    Open Heartbeat Connections    ${URL}    5
    Set Connection Behaviour    ${conns}[0]    frozen
    Set Connection Behaviour    ${conns}[1]    no-pong
    Start Client Heartbeat    ${conns}[2]
"""


def test_suite_end_closes_connections_and_stops_the_loop(
    tmp_path: Path, echo_process: Callable[..., EchoProcess]
) -> None:
    server = echo_process("--ping-interval", "5", "--ping-timeout", "0.5", "--close-timeout", "0.5")
    (tmp_path / "leave_open.robot").write_text(SUITE)
    rc = robot.run(str(tmp_path / "leave_open.robot"), outputdir=str(tmp_path),
                   variable=[f"URL:{server.url}"], console="none", log=None, report=None)
    assert rc == 0
    assert "wsresilience-loop" not in [t.name for t in threading.enumerate()]
    held = [c for c in psutil.Process().net_connections(kind="tcp")
            if c.raddr and c.raddr.port == server.port]
    assert held == [], held
