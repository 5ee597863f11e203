*** Comments ***
# The criteria table rows must stay on one line each (Robot documentation tables).
# robocop: off=line-too-long


*** Settings ***
Documentation     WS-RESILIENCE-006: rapid reconnection (flapping clients) and resource leaks.
...
...               Clients on an unstable network connect, drop and reconnect over and over.
...               Many clients flap at once (source-review timing: 100 ms connected, 50 ms
...               disconnected); the server must accept every reconnect quickly, keep one
...               agent per user, and afterwards hold exactly what it held before: no
...               connections, sessions, descriptors or tasks left behind, and no memory
...               that climbs round after round.
...
...               Criteria: docs/acceptance.md, section WS-RESILIENCE-006:
...
...               | =Criterion= | =Requirement= |
...               | AC-006.1 | 10 concurrent clients each flap 50 times (connected 100 ms, disconnected 50 ms, with jitter): connection success rate ≥ 99%; handshake latency p95 < 200 ms; attempt rate reported. |
...               | AC-006.2 | After flapping and a settle period, the server's open-connection count is exactly back to baseline. |
...               | AC-006.3 | At most one agent instance per user at every sample during flapping, and back to baseline after. |
...               | AC-006.4 | Server memory is stable across several flapping rounds: after warm-up no growth that keeps going, at most 12 KiB kept per connection both over all rounds and over the late ones (a heap that levels off is a plateau, not a leak); descriptors and tasks exact. |
...               | AC-006.5 | Right after flapping, a fresh connection authenticates, sends a message and gets the correct reply within 1 s. |
...               | AC-006.6 | Abrupt disconnects (TCP reset, no close handshake) during flapping leak nothing either. |
...
...               Runs against the bundled reference server by default. Against another
...               server (``--variable WS_URL:ws://host:port/`` plus ``METRICS_URL`` or
...               ``SERVER_PID``), the connection and memory checks run on plain
...               connections; the checks that need the reference protocol (users, agents,
...               ask/answer) SKIP with the reason. With ``WS_PROTOCOL`` (``rfc6455``,
...               ``socketio``, ``graphql-ws``) every client opens with the profile's handshake and
...               ``WS_AUTH_PAYLOAD``, and answers its heartbeat while it holds; agents per user
...               are counted by the agent metrics or, on Socket.IO, by the agent convention of
...               the service's own events (docs/profiles.md), and SKIP where neither exists.
Metadata          Test ID    WS-RESILIENCE-006
Metadata          Thresholds    ${FLAP_CLIENTS} clients × ${FLAP_CYCLES} cycles (${CONNECTED_TIME} / ${DISCONNECTED_TIME}); success ≥ ${MIN_SUCCESS_RATE}%; handshake p95 < ${HANDSHAKE_P95_MAX_MS} ms; RSS kept ≤ ${RSS_PER_CONNECTION_MAX} per connection over ${MEMORY_ROUNDS} rounds, ${WARMUP_ROUNDS} of warm-up; answer within ${ANSWER_MAX}

# robocop: on=line-too-long
Resource          ../resources/flapping.resource

Suite Setup       Start Target Service
Suite Teardown    Stop Target Service

Test Tags         WS-RESILIENCE-006


*** Test Cases ***
Flapping Clients Reconnect Reliably And Quickly
    [Documentation]    Ten clients flap fifty times each: nearly every reconnect succeeds,
    ...    handshakes stay fast, and the attempt rate is reported.
    [Tags]    AC-006.1
    Flap Clients As Configured
    Get Connection Success Rate    >=    ${MIN_SUCCESS_RATE}    criterion=AC-006.1
    Get Handshake Latency    p95    <    ${HANDSHAKE_P95_MAX_MS}    criterion=AC-006.1
    Get Attempt Rate

Server Lets Go Of Every Connection After Flapping
    [Documentation]    Once the clients stop flapping, the server holds exactly as many
    ...    open connections as before they started.
    [Tags]    AC-006.2    needs-metrics
    ${baseline}    Get Open Connection Count
    Flap Clients As Configured
    Open Connection Count Should Return To    ${baseline}    timeout=${FLAP_SETTLE_TIMEOUT}    criterion=AC-006.2

Each User Keeps At Most One Agent While Flapping
    [Documentation]    While each user's client flaps, the server never holds more than one
    ...    agent for that user, and all of them retire after the grace period.
    [Tags]    AC-006.3    needs-metrics
    ${by_events}    Skip Unless Target Has Agents
    Agents Should Settle At Zero Where Counted    ${by_events}    before flapping (agents of earlier tests retired)
    Flap Clients As Configured    ask_agents=${by_events}
    Agent Instances Should Stay At One Per User    criterion=AC-006.3
    Agents Should Settle At Zero Where Counted    ${by_events}    after flapping    criterion=AC-006.3

Server Memory Does Not Climb Across Flapping Rounds
    [Documentation]    Many rounds of flapping: after a warm-up round, the server's memory
    ...    may level off but not keep growing with every connection served, and its
    ...    descriptors and tasks come back exactly.
    [Tags]    AC-006.4    slow    needs-metrics
    ${snapshots}    ${connections}    Snapshot Resources After Each Flapping Round
    Compare Resource Snapshots    ${snapshots}[0]    ${snapshots}[-1]
    Resource Growth Should Show No Leak    ${snapshots}    ${connections}
    ...    warmup_rounds=${WARMUP_ROUNDS}
    ...    rss_per_connection_max=${RSS_PER_CONNECTION_MAX}
    ...    criterion=AC-006.4

Fresh Connection Gets The Right Answer Right After Flapping
    [Documentation]    Straight after a flapping run, a new user connects, authenticates,
    ...    asks the agent a question and gets the correct answer within a second.
    [Tags]    AC-006.5
    Skip Unless Protocol Speaks Reference    A fresh connection's ask and answer
    Skip Unless Target Speaks The Reference Protocol
    Flap Clients As Configured    cycles=${SHORT_FLAP_CYCLES}
    ${newcomer}    Create Test User    newcomer
    Fresh Connection Should Get An Answer Within    ${TARGET_URL}    ${newcomer}    ${ANSWER_MAX}
    ...    criterion=AC-006.5

Abrupt Disconnects Leak Nothing
    [Documentation]    Clients that flap by resetting the TCP connection, with no close
    ...    handshake, leave no connection, session, descriptor or task behind.
    [Tags]    AC-006.6    needs-metrics
    ${baseline}    Take Resource Snapshot    before flapping
    Flap Clients As Configured    cycles=${SHORT_FLAP_CYCLES}    disconnect=abort
    Server Resources Should Return To    ${baseline}    timeout=${FLAP_SETTLE_TIMEOUT}    criterion=AC-006.6

Network Resets During Flapping Leak Nothing
    [Documentation]    The clients flap through a fault proxy that itself keeps going down,
    ...    cutting every open connection with a TCP reset: whatever the network tears down
    ...    abruptly, the server still lets go of every connection, descriptor and task.
    [Tags]    AC-006.6    needs-metrics
    ${baseline}    Take Resource Snapshot    before flapping
    ${url}    Create Proxy    ${TARGET_URL}    name=flaky-network
    Flap Proxy    flaky-network    down=${NETWORK_DOWN_TIME}    up=${NETWORK_UP_TIME}
    ...    times=${NETWORK_FLAPS}    reset=${True}
    Flap Clients As Configured    cycles=${SHORT_FLAP_CYCLES}    url=${url}
    Wait Until Proxy Stops Flapping    flaky-network
    Server Resources Should Return To    ${baseline}    timeout=${FLAP_SETTLE_TIMEOUT}    criterion=AC-006.6
    [Teardown]    Delete Proxy    ALL
