"""The deprecated keywords still work, and each call warns naming the keyword to use instead.

Run twice: on the one library (where the old timeout setters all set the one shared
timeout) and on the views that carry them (each on its own context).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from robot.libdoc import libdoc

from support.echo_server import EchoProcess
from support.inline_suites import errors, outcomes, run_inline, warnings

#: Deprecated keyword → the keyword(s) its warning must name.
DEPRECATED = {
    "Set Heartbeat Timeout": ["Set Library Timeout"],
    "Set Context Timeout": ["Set Library Timeout"],
    "Set Flapping Timeout": ["Set Library Timeout"],
    "Use Server Probes": ["Configure Server Probes"],
    "Start Degraded Network Proxy": ["Create Proxy", "Add Latency", "Limit Bandwidth"],
    "Stop Degraded Network Proxy": ["Delete Proxy"],
}

SUITE = """*** Settings ***
{imports}

*** Test Cases ***
Old Timeout Setters Still Set The Timeout
    ${{old}} =    Set Heartbeat Timeout    2 s
    Should Be Equal    ${{old}}    10 seconds
    ${{old}} =    Set Context Timeout    3 s
    Should Be Equal    ${{old}}    {after_heartbeat}
    ${{old}} =    Set Flapping Timeout    4 s
    Should Be Equal    ${{old}}    {after_context}

Old Probe Setter Still Configures The Probes
    Use Server Probes    pid=${{PID}}

Old Degraded Proxy Still Starts And Stops
    ${{proxied}} =    Start Degraded Network Proxy    ${{URL}}    latency=5 ms    jitter=1 ms
    Should Start With    ${{proxied}}    ws://127.0.0.1:
    Stop Degraded Network Proxy
"""

SETUPS = {
    # One context: each setter returns the timeout the previous one set.
    "the-one-library": dict(imports="Library    wsresilience.WebSocketResilience",
                            after_heartbeat="2 seconds", after_context="3 seconds"),
    # A context per view: each setter returns its own view's default.
    "the-views": dict(imports="\n".join(f"Library    wsresilience.{view}"
                                        for view in ("Heartbeat", "ContextReconnect", "Flapping", "StreamResume")),
                      after_heartbeat="10 seconds", after_context="10 seconds"),
}


@pytest.mark.parametrize("setup", sorted(SETUPS))
def test_deprecated_keywords_pass_and_warn_once_per_call_naming_the_new_one(
    setup: str, tmp_path: Path, echo_process: Callable[..., EchoProcess]
) -> None:
    echo = echo_process()
    rc, result = run_inline(tmp_path, SUITE.format(**SETUPS[setup]), {"URL": echo.url, "PID": echo.pid})
    found = outcomes(result)
    assert rc == 0 and all(status == "PASS" for status, _ in found.values()), found
    assert errors(result) == []
    warned = warnings(result)
    for old, new in DEPRECATED.items():
        mine = [w for w in warned if f"'{old}'" in w]
        assert len(mine) == 1, f"expected one warning for {old!r}, got {mine} (all: {warned})"
        assert "deprecated" in mine[0] and all(name in mine[0] for name in new), mine[0]
    assert len(warned) == len(DEPRECATED), warned


def test_the_deprecated_tag_marks_exactly_the_deprecated_keywords(tmp_path: Path) -> None:
    out = tmp_path / "doc.json"
    assert libdoc("wsresilience.WebSocketResilience", str(out), format="JSON", quiet=True) == 0
    tagged = {k["name"] for k in json.loads(out.read_text())["keywords"] if "Deprecated" in k["tags"]}
    assert tagged == set(DEPRECATED)
