*** Comments ***
# The criteria table rows must stay on one line each (Robot documentation tables).
# robocop: off=line-too-long


*** Settings ***
Documentation     WS-RESILIENCE-007: heartbeat validation and zombie-connection detection.
...
...               The server pings every ``SERVER_PING_INTERVAL``; a client answers each ping
...               with a pong. A client that stops answering is a zombie: the server must
...               terminate it within interval + timeout + ``TERMINATION_TOLERANCE`` of its
...               going silent, and free everything it held. The client's own heartbeat
...               measures round-trip time and detects a server that stops answering.
...
...               Criteria: docs/acceptance.md, section WS-RESILIENCE-007:
...
...               | =Criterion= | =Requirement= |
...               | AC-007.1 | A responsive client stays connected for at least 5 server ping intervals; every server ping it receives is answered; observed ping spacing is SERVER_PING_INTERVAL ±10%; client-measured RTT p95 < 100 ms. |
...               | AC-007.2 | A client that stops answering pings (no-pong: keeps reading, drops its pongs; frozen: stops reading) is closed by the server within interval + timeout + 250 ms of going silent; the close code and reason are reported. |
...               | AC-007.3 | After a zombie is terminated, the server's open-connection count is back to its baseline. |
...               | AC-007.4 | A client silent for less than the timeout (half of it) and then responsive again is not terminated. |
...               | AC-007.5 | 50 concurrent clients with a chosen subset silent: exactly that subset is terminated (no false positives or negatives); healthy clients' RTT p95 < 100 ms. |
...               | AC-007.6 | A half-open connection (blackholed in the fault proxy: no data, no FIN, no RST) is terminated by the server within the same bound. |
...               | AC-007.7 | The client's own heartbeat detects a server that stops answering within the client's interval + timeout + 250 ms. |
...
...               Run against the bundled reference server by default, or any RFC 6455 server
...               with ``--variable WS_URL:ws://host:port/path`` (plus ``SERVER_PING_INTERVAL``
...               and ``SERVER_PING_TIMEOUT``: the keepalive required of it). ``WS_PROTOCOL``
...               (``rfc6455``, ``socketio``, ``graphql-ws``) judges the same criteria on the
...               framework's own heartbeat (docs/profiles.md); where the service announces its
...               keepalive (Socket.IO) it is logged, and a failure names it when it is looser
...               than required. Without a client ping (Socket.IO) the client watches the
...               server's pings (pingInterval + pingTimeout) and no RTT is measured.
# robocop: on=line-too-long
Metadata          Test ID    WS-RESILIENCE-007
Metadata          Thresholds    termination within interval + timeout + ${TERMINATION_TOLERANCE}; ping spacing ±${PING_SPACING_TOLERANCE}; RTT p95 < ${RTT_P95_MAX_MS} ms; client heartbeat ${CLIENT_HEARTBEAT_INTERVAL} / ${CLIENT_HEARTBEAT_TIMEOUT}; ${LOAD_CLIENTS} clients, ${LOAD_SILENT} silent

Resource          ../resources/heartbeat.resource

Suite Setup       Start Heartbeat Target
Suite Teardown    Stop Target Service
Test Teardown     Report And Close Connections

Test Tags         WS-RESILIENCE-007


*** Test Cases ***
Responsive Client Stays Connected And Answers Every Ping
    [Documentation]    A responsive client survives five ping intervals, answers every ping,
    ...    sees pings at the configured spacing, and measures a low round-trip time.
    [Tags]    AC-007.1
    ${client}    Open Heartbeat Connection    ${TARGET_URL}    name=responsive
    Start Client Heartbeat    ${client}    ${CLIENT_HEARTBEAT_INTERVAL}    ${CLIENT_HEARTBEAT_TIMEOUT}
    ${pings}    Server Pings Spanning Intervals    ${MIN_PING_INTERVALS}
    ${wait}    Time Of Server Ping Intervals    ${MIN_PING_INTERVALS}
    Wait For Server Pings    ${client}    count=${pings}    timeout=${wait}
    Get Connection State    ${client}    ==    OPEN
    Every Server Ping Should Be Answered    ${client}
    Ping Spacing Should Be    ${client}    ${SERVER_PING_INTERVAL}
    ...    tolerance=${PING_SPACING_TOLERANCE}    criterion=AC-007.1
    Client Round Trip Time Should Be Low    ${client}    AC-007.1

Client That Drops Its Pongs Is Terminated In Time
    [Documentation]    A client that keeps reading but stops sending pongs is closed by the
    ...    server within interval + timeout + tolerance; the close code is reported.
    [Tags]    AC-007.2
    ${bound}    Zombie Termination Bound
    ${zombie}    Open Heartbeat Connection    ${TARGET_URL}    name=no-pong-zombie
    Wait For The First Server Ping    ${zombie}
    Set Connection Behaviour    ${zombie}    no-pong
    Connection Should Be Terminated Within    ${zombie}    ${bound}    criterion=AC-007.2
    ${code}    Get Close Code    ${zombie}
    Log    The server closed the no-pong zombie with code ${code}.

Frozen Client Is Terminated In Time
    [Documentation]    A client that stops reading altogether, like a hung process, is given
    ...    up by the server within interval + timeout + tolerance.
    [Tags]    AC-007.2
    ${bound}    Zombie Termination Bound
    ${zombie}    Open Heartbeat Connection    ${TARGET_URL}    name=frozen-zombie
    Wait For The First Server Ping    ${zombie}
    Set Connection Behaviour    ${zombie}    frozen
    Connection Should Be Terminated Within    ${zombie}    ${bound}    criterion=AC-007.2
    ${code}    Get Close Code    ${zombie}
    Log    The server closed the frozen zombie with code ${code}.

Server Frees A Terminated Zombie
    [Documentation]    Once the server has terminated a frozen zombie, which never closes its
    ...    own end, the server's open-connection count returns to its baseline.
    [Tags]    AC-007.3    needs-metrics
    Skip Counting A Target Shared With Other Pabot Processes
    ${baseline}    Get Open Connection Count
    ${zombie}    Open Heartbeat Connection    ${TARGET_URL}    name=leak-check-zombie
    Wait For The First Server Ping    ${zombie}
    ${with_zombie}    Add Counts    ${baseline}    1
    Get Open Connection Count    ==    ${with_zombie}
    Set Connection Behaviour    ${zombie}    frozen
    Connection Should Be Terminated Within    ${zombie}    ${SETTLE_TIMEOUT}
    Open Connection Count Should Return To    ${baseline}    timeout=${SETTLE_TIMEOUT}    criterion=AC-007.3

Briefly Silent Client Is Not Terminated
    [Documentation]    A client that leaves a server ping unanswered for half the ping timeout,
    ...    three times, then answers, is never terminated: no false positives.
    [Tags]    AC-007.4
    ${bound}    Zombie Termination Bound
    ${silence}    Half The Server Ping Timeout
    ${client}    Open Heartbeat Connection    ${TARGET_URL}    name=briefly-silent
    Wait For The First Server Ping    ${client}
    Repeat Keyword    3 times    Delay Answering The Next Ping    ${client}    ${silence}
    Connections Should Stay Open For    ${client}    ${bound}    criterion=AC-007.4

Under Load Exactly The Silent Clients Are Terminated
    [Documentation]    Of many concurrent clients, a chosen subset goes silent (half no-pong,
    ...    half frozen): exactly those are terminated, and the healthy ones keep a low RTT.
    [Tags]    AC-007.5    slow
    ${bound}    Zombie Termination Bound
    ${clients}    Open Heartbeat Connections    ${TARGET_URL}    ${LOAD_CLIENTS}    prefix=load
    Start Client Heartbeat    ${clients}    ${CLIENT_HEARTBEAT_INTERVAL}    ${CLIENT_HEARTBEAT_TIMEOUT}
    Wait For The First Server Ping    ${clients}[0]
    ${silent}    Get Slice From List    ${clients}    0    ${LOAD_SILENT}
    ${healthy}    Get Slice From List    ${clients}    ${LOAD_SILENT}
    ${half}    Divide Count    ${LOAD_SILENT}    2
    ${no_pong}    Get Slice From List    ${silent}    0    ${half}
    ${frozen}    Get Slice From List    ${silent}    ${half}
    Set Connection Behaviour    ${no_pong}    no-pong
    Set Connection Behaviour    ${frozen}    frozen
    Only Silent Connections Should Be Terminated    ${silent}    ${healthy}    ${bound}    criterion=AC-007.5
    Client Round Trip Time Should Be Low    ${healthy}    AC-007.5

Half-Open Connection Is Terminated By The Server In Time
    [Documentation]    A client connected through the fault proxy is blackholed in both
    ...    directions: no data, no FIN, no RST. The client can see nothing, so the
    ...    server's termination is observed at the proxy's upstream socket: its close
    ...    frame, FIN or RST must come within interval + timeout + tolerance.
    [Tags]    AC-007.6
    ${bound}    Zombie Termination Bound
    ${url}    Create Proxy    ${TARGET_URL}    name=half-open
    Open Heartbeat Connection    ${url}    name=half-open
    Blackhole Proxy    half-open    direction=both
    Upstream Should Be Closed By Server Within    half-open    ${bound}    criterion=AC-007.6
    [Teardown]    Heal Proxies, Report And Close Connections

Client Heartbeat Detects A Server That Stops Answering
    [Documentation]    When the server stops answering, the client's own heartbeat notices
    ...    within its interval + timeout + tolerance and says so plainly.
    [Tags]    AC-007.7
    ${bound}    Client Detection Bound
    ${client}    Open Heartbeat Connection    ${TARGET_URL}    name=watching-client
    Start Client Heartbeat    ${client}    ${CLIENT_HEARTBEAT_INTERVAL}    ${CLIENT_HEARTBEAT_TIMEOUT}
    Make Server Stop Answering    ${client}    duration=5 s
    Server Should Be Detected Unresponsive Within    ${client}    ${bound}    criterion=AC-007.7

Client Heartbeat Detects A Server Behind A Dead Network
    [Documentation]    The client reaches the server through a fault proxy that is then
    ...    blackholed: no pong, no FIN, no RST. The client's own heartbeat notices within
    ...    its interval + timeout + tolerance. This works against any server.
    [Tags]    AC-007.7
    ${bound}    Client Detection Bound
    ${url}    Create Proxy    ${TARGET_URL}    name=dead-network
    ${client}    Open Heartbeat Connection    ${url}    name=behind-dead-network
    Start Client Heartbeat    ${client}    ${CLIENT_HEARTBEAT_INTERVAL}    ${CLIENT_HEARTBEAT_TIMEOUT}
    Blackhole Proxy    dead-network
    Mark Server Silent From Now    ${client}
    Server Should Be Detected Unresponsive Within    ${client}    ${bound}    criterion=AC-007.7
    [Teardown]    Heal Proxies, Report And Close Connections
