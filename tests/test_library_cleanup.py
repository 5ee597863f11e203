"""At suite end the libraries close every connection and stop the loop: nothing is left."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import robot

SUITE = """*** Settings ***
Library    wsresilience.Heartbeat    AS    Heartbeat

*** Test Cases ***
Leave Connections Open On Purpose
    ${conns}    Open Heartbeat Connections    ${URL}    5
    Set Connection Behaviour    ${conns}[0]    frozen
    Set Connection Behaviour    ${conns}[1]    no-pong
    Start Client Heartbeat    ${conns}[2]
"""


def test_suite_end_closes_connections_and_stops_the_loop(tmp_path: Path) -> None:
    script = Path(__file__).parent / "servers" / "plain_echo_server.py"
    server = subprocess.Popen([sys.executable, str(script), "--ping-interval", "5"],
                              stdout=subprocess.PIPE, text=True)
    try:
        url = re.search(r"(ws://\S+)", server.stdout.readline()).group(1)
        port = int(url.rsplit(":", 1)[1].strip("/"))
        (tmp_path / "leave_open.robot").write_text(SUITE)
        rc = robot.run(str(tmp_path / "leave_open.robot"), outputdir=str(tmp_path),
                       variable=[f"URL:{url}"], console="none", log=None, report=None)
        assert rc == 0
        assert "wsresilience-loop" not in [t.name for t in threading.enumerate()]
        held = [c for c in psutil.Process().net_connections(kind="tcp")
                if c.raddr and c.raddr.port == port]
        assert held == [], held
    finally:
        server.terminate()
        server.wait(10)
