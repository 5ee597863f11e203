"""The one library on its shared context, as Robot runs it: one loop for every component,
everything closed at the end of the suite, and a timeout set once that every wait uses.

Real sockets and processes throughout: the reference server, the in-process fault proxy,
and a third-party echo server that never answers (``tests/support/echo_server.py --silent``).
Suites run in this process (``support.inline_suites``), so what the library leaves behind is
left here, where psutil and ``threading`` can see it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psutil

from wsresilience.WebSocketResilience import WebSocketResilience

from support.echo_server import EchoProcess
from support.inline_suites import outcomes, run_inline
from support.loop_watch import LOOP_THREAD, loop_threads

LIBRARY = "wsresilience.WebSocketResilience"


def test_every_component_holds_the_library_context() -> None:
    lib = WebSocketResilience(timeout=timedelta(seconds=3))
    try:
        components = [lib.component(kind) for kind in WebSocketResilience.COMPONENTS]
        assert len(components) == len(WebSocketResilience.COMPONENTS) == 11
        assert all(c.ctx is lib.ctx for c in components)
        assert lib.ROBOT_LIBRARY_LISTENER == [lib.ctx]  # Robot closes the context at the end of the scope
        assert not lib.ctx.loop_started  # nothing started before a keyword needs it
    finally:
        lib.ctx.close()


ONE_LOOP = f"""*** Settings ***
Library    {LIBRARY}
Library    support.loop_watch.LoopWatch

*** Test Cases ***
Every Component Runs On The One Loop
    Start Watching Loop Threads
    Start Reference Server
    ${{url}} =    Get Reference Server Url
    ${{conns}} =    Open Heartbeat Connections    ${{url}}    2
    Wait For Server Pings    ${{conns}}[0]
    Start Client Heartbeat    ${{conns}}[1]    interval=50 ms
    Connect To Stream Service    ${{url}}
    Start Stream    s    size=8192    chunk_size=512    interval=2 ms
    ${{user}} =    Create Test User
    ${{chat}} =    Start Conversation    ${{url}}    ${{user}}
    Hold Conversation    ${{chat}}    remember tea    hello
    Wait Until Streams Complete    s
    ${{proxied}} =    Create Proxy    ${{url}}
    Open Heartbeat Connection    ${{proxied}}    name=through-proxy
    Flap Clients    ${{url}}    clients=2    cycles=3
    Components Should Share One Context    {LIBRARY}
    Loop Threads Should Have Been One
"""


def test_one_loop_thread_serves_every_component(tmp_path: Path) -> None:
    rc, result = run_inline(tmp_path, ONE_LOOP)
    assert rc == 0, outcomes(result)
    assert loop_threads() == []  # and it stopped at the end of the suite


LEAVE_OPEN = f"""*** Settings ***
Library    {LIBRARY}

*** Test Cases ***
Leave Everything Open On Purpose
    Start Reference Server    ping_interval=5 s    ping_timeout=5 s
    ${{url}} =    Get Reference Server Url
    ${{pid}} =    Get Reference Server Pid
    ${{conns}} =    Open Heartbeat Connections    ${{url}}    3
    Set Connection Behaviour    ${{conns}}[0]    frozen
    Start Client Heartbeat    ${{conns}}[1]
    ${{proxied}} =    Create Proxy    ${{url}}    name=front
    Open Heartbeat Connection    ${{proxied}}    name=through-proxy
    Connect To Stream Service    ${{url}}
    Start Stream    endless    size=10000000    chunk_size=1000    interval=10 ms
    ${{user}} =    Create Test User
    Start Conversation    ${{url}}    ${{user}}
    Set Suite Metadata    server url    ${{url}}
    Set Suite Metadata    server pid    ${{pid}}
    Set Suite Metadata    proxy url    ${{proxied}}
"""


def test_suite_end_closes_what_every_component_opened(tmp_path: Path) -> None:
    """Connections (one frozen), a proxy and a connection through it, a stream mid-way, a
    conversation and the server: all left open by the suite, all gone after it."""
    rc, result = run_inline(tmp_path, LEAVE_OPEN)
    assert rc == 0, outcomes(result)
    metadata = result.suite.metadata
    server_port, proxy_port = urlsplit(metadata["server url"]).port, urlsplit(metadata["proxy url"]).port
    assert LOOP_THREAD not in [t.name for t in threading.enumerate()]
    held = [c for c in psutil.Process().net_connections(kind="tcp")
            if (c.raddr and c.raddr.port in (server_port, proxy_port)) or c.laddr.port == proxy_port]
    assert held == [], held
    assert not psutil.pid_exists(int(metadata["server pid"])), "the reference server outlived the suite"


SET_ONCE = f"""*** Settings ***
Library    {LIBRARY}

*** Test Cases ***
Set The Timeout Once
    ${{old}} =    Set Library Timeout    300 ms
    Should Be Equal    ${{old}}    10 seconds
    ${{now}} =    Get Library Timeout
    Should Be Equal    ${{now}}    300 milliseconds

Heartbeat Wait
    ${{conn}} =    Open Heartbeat Connection    ${{URL}}
    Time The Failing Wait    Wait For Server Pings    ${{conn}}

Stream Wait
    Connect To Stream Service    ${{URL}}
    Time The Failing Wait    Start Stream    never

Conversation Wait
    ${{user}} =    Create Test User
    Time The Failing Wait    Start Conversation    ${{URL}}    ${{user}}

Restore The Timeout
    ${{old}} =    Set Library Timeout    10 s
    Should Be Equal    ${{old}}    300 milliseconds

*** Keywords ***
Time The Failing Wait
    [Arguments]    ${{keyword}}    @{{args}}
    ${{started}} =    Evaluate    time.monotonic()
    Run Keyword And Expect Error    *    ${{keyword}}    @{{args}}
    ${{elapsed}} =    Evaluate    time.monotonic() - $started
    Set Test Message    ${{elapsed}}
"""

#: A server that accepts connections and never sends: no ping, no answer (and at its SIGTERM
#: it waits 0.5 s, not websockets' 10 s, for a close no client sends).
SILENT = ("--silent", "--ping-interval", "0", "--close-timeout", "0.5")

#: The timeout set once, and how much later than it a wait may end: Robot's own keyword
#: overhead plus scheduling on a loaded 2-core machine, far below the 10 s default.
TIMEOUT, TOLERANCE = 0.3, 1.0


def test_a_timeout_set_once_applies_to_every_component(
    tmp_path: Path, echo_process: Callable[..., EchoProcess]
) -> None:
    silent = echo_process(*SILENT)
    rc, result = run_inline(tmp_path, SET_ONCE, {"URL": silent.url})
    found = outcomes(result)
    assert rc == 0, found
    for wait in ("Heartbeat Wait", "Stream Wait", "Conversation Wait"):
        elapsed = float(found[wait][1])
        assert TIMEOUT <= elapsed < TIMEOUT + TOLERANCE, f"{wait} gave up after {elapsed:.3f} s, not {TIMEOUT} s"


TIMED_OUT_CONVERSATION = f"""*** Settings ***
Library    {LIBRARY}

*** Test Cases ***
A Conversation Whose Authentication Is Never Answered
    Set Library Timeout    300 ms
    ${{user}} =    Create Test User
    Run Keyword And Expect Error    *    Start Conversation    ${{URL}}    ${{user}}
"""


def test_a_conversation_that_timed_out_leaves_no_connection_behind(
    tmp_path: Path, echo_process: Callable[..., EchoProcess]
) -> None:
    silent = echo_process(*SILENT)
    rc, result = run_inline(tmp_path, TIMED_OUT_CONVERSATION, {"URL": silent.url})
    assert rc == 0, outcomes(result)
    held = [c for c in psutil.Process().net_connections(kind="tcp") if c.raddr and c.raddr.port == silent.port]
    assert held == [], held
