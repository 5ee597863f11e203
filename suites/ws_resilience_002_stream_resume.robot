*** Comments ***
# The criteria table rows must stay on one line each (Robot documentation tables).
# robocop: off=line-too-long


*** Settings ***
Documentation     WS-RESILIENCE-002: mid-stream disconnection and resume.
...
...               The server streams a response as numbered chunks (seq from 1, +1 each),
...               ends it with the chunk count and the SHA-256 of the whole payload, buffers
...               unacknowledged chunks for a resume window, and on resume replays everything
...               after the client's last seq. The client cuts the connection mid-stream,
...               reconnects with exponential backoff, resumes, and verifies that it
...               assembled each chunk exactly once, in order, intact.
...
...               Criteria: docs/acceptance.md, section WS-RESILIENCE-002:
...
...               | =Criterion= | =Requirement= |
...               | AC-002.1 | Text stream cut, resumed: SHA-256 matches, no gap/duplicate; reconnect < 2 s, resume < 500 ms, total < 5 s. |
...               | AC-002.2 | JSON stream cut mid-document: the reassembled document parses, validates and equals the original. |
...               | AC-002.3 | Multi-part: after resume every component is present, in order, none twice; a missing one is named. |
...               | AC-002.4 | Several streams on one connection cut at once: each resumes at its own position, seqs continuous. |
...               | AC-002.5 | After streaming, with the service cut off: backoff (base, factor, cap, jitter) follows the schedule, each delay waited; past the limit, fails naming tries, last error. |
...               | AC-002.6 | Resume after the window, or of an unknown stream: an explicit error, never silent partial data. |
...               | AC-002.7 | A 4 MB stream cut several times is delivered intact; client memory overhead < 50 MB. |
...               | AC-002.8 | Rapid reconnection: a cut every 200 ms until done; the stream completes intact. |
...               | AC-002.9 | Through the fault proxy with latency, jitter and a bandwidth cap, the stream completes intact. |
...
...               Runs against the bundled reference server by default; a service with
...               another streaming protocol needs a protocol adapter (docs/adapters.md).
...               With ``WS_PROTOCOL`` ``socketio`` the streams are Socket.IO events resumed by
...               connection state recovery (docs/profiles.md): the recovery criteria run, the
...               others SKIP with the reason; a profile with no streams SKIPs the suite.
Metadata          Test ID    WS-RESILIENCE-002
Metadata          Thresholds    reconnect < ${RECONNECT_MAX}; resume < ${RESUME_MAX}; total recovery < ${TOTAL_RECOVERY_MAX}; client memory < ${CLIENT_MEMORY_MAX_MB} MB; backoff ${RETRY_BASE} × ${RETRY_FACTOR} capped ${RETRY_CAP}, ${RETRY_LIMIT} tries

# robocop: on=line-too-long
Resource          ../resources/stream_resume.resource

Suite Setup       Start Stream Target Service
Suite Teardown    Stop Target Service
Test Setup        Use The Suite Retry Policy
Test Teardown     Report And Close Streams

Test Tags         WS-RESILIENCE-002


*** Test Cases ***
Text Stream Resumes After A Cut Without Gap Or Duplicate
    [Documentation]    A text stream cut after k chunks resumes right after its last chunk,
    ...    matches its declared SHA-256, and recovers within the source review's time targets.
    [Tags]    AC-002.1
    Connect To Stream Service    ${TARGET_URL}
    Start Stream    answer    kind=text    size=${TEXT_STREAM_BYTES}    chunk_size=${TEXT_CHUNK_BYTES}
    ...    interval=${CHUNK_INTERVAL}
    Cut Connection After Chunks    answer    ${CUT_AFTER_CHUNKS}
    Reconnect And Resume Streams    away=${DISCONNECTED_FOR}
    Wait Until Streams Complete    answer
    Stream Should Be Intact    answer    criterion=AC-002.1
    Resume Should Continue Right After The Last Chunk    answer    criterion=AC-002.1
    Recovery Times Should Be Within    answer    reconnect=${RECONNECT_MAX}    resume=${RESUME_MAX}
    ...    total=${TOTAL_RECOVERY_MAX}    criterion=AC-002.1

JSON Document Cut Mid-Way Is Reassembled Valid And Whole
    [Documentation]    A JSON document cut in the middle parses after resume, matches its
    ...    schema, and equals the original (its declared SHA-256).
    [Tags]    AC-002.2
    Connect To Stream Service    ${TARGET_URL}
    Start Stream    document    kind=json    size=30000    chunk_size=700    interval=${CHUNK_INTERVAL}
    Cut Connection After Chunks    document    15
    Reconnect And Resume Streams
    Wait Until Streams Complete    document
    Stream Should Be Intact    document    criterion=AC-002.2

Multi-Part Response Has Every Component Once And In Order After Resume
    [Documentation]    A response of three components (text, JSON, code) is cut in the middle
    ...    component; after resume each is present once, in order, with its own hash.
    [Tags]    AC-002.3
    VAR    @{components}    summary:text    data:json    code:code
    Connect To Stream Service    ${TARGET_URL}
    Start Stream    reply    kind=multipart    size=12000    chunk_size=500    interval=${CHUNK_INTERVAL}
    ...    components=${components}
    Cut Connection After Chunks    reply    10
    Reconnect And Resume Streams
    Wait Until Streams Complete    reply
    Stream Should Be Intact    reply    criterion=AC-002.3

Concurrent Streams On One Connection Resume At Their Own Positions
    [Documentation]    Three streams at different paces share one connection; one cut hits
    ...    them all at different positions, and each resumes from its own.
    [Tags]    AC-002.4
    Connect To Stream Service    ${TARGET_URL}
    Start Stream    fast    size=20000    chunk_size=400    interval=5 ms    seed=1
    Start Stream    medium    kind=json    size=20000    chunk_size=400    interval=10 ms    seed=2
    Start Stream    slow    size=10000    chunk_size=400    interval=20 ms    seed=3
    Cut Connection After Chunks    fast    20
    Reconnect And Resume Streams
    Wait Until Streams Complete    fast    medium    slow
    Streams Should Resume At Their Own Positions    fast    medium    slow    criterion=AC-002.4
    FOR    ${stream}    IN    fast    medium    slow
        Stream Should Be Intact    ${stream}    criterion=AC-002.4
    END

Reconnecting Backs Off Exponentially And Gives Up Clearly
    [Documentation]    The client reaches the service through the fault proxy and streams from
    ...    it; then the network goes down (the proxy refuses connections) under the stream.
    ...    Reconnecting, the client retries with exponential backoff and full jitter: each
    ...    measured delay matches its own planned delay of the seeded schedule, and after the
    ...    retry limit the keyword names the attempts and the last error.
    [Tags]    AC-002.5
    ${proxied}    Create Proxy    ${TARGET_URL}    name=backoff
    Connect To Stream Service    ${proxied}
    Start Stream    reachable    size=${TEXT_STREAM_BYTES}    chunk_size=${TEXT_CHUNK_BYTES}
    ...    interval=${CHUNK_INTERVAL}
    Cut Connection After Chunks    reachable    ${CUT_AFTER_CHUNKS}
    Disable Proxy    backoff
    Run Keyword And Expect Error    *after ${RETRY_LIMIT} attempts*last error: Connection refused*
    ...    Reconnect And Resume Streams
    Retry Delays Should Follow The Policy    late=${RETRY_DELAY_LATE_MAX}    share=${RETRY_DELAY_SHARE}
    ...    criterion=AC-002.5
    [Teardown]    Run Keywords    Report And Close Streams    AND    Delete Proxy    ALL

Resume After The Window Or Of An Unknown Stream Is Refused Explicitly
    [Documentation]    Once the resume window has passed, resuming gets an explicit error and
    ...    no data; so does resuming a stream that never existed.
    [Tags]    AC-002.6
    Connect To Stream Service    ${TARGET_URL}
    Start Stream    late    size=${TEXT_STREAM_BYTES}    chunk_size=${TEXT_CHUNK_BYTES}
    ...    interval=${CHUNK_INTERVAL}    window=${SHORT_RESUME_WINDOW}
    Cut Connection After Chunks    late    5
    Wait Out The Resume Window    late
    Stream Resume Should Be Refused    late    window-expired    unknown-stream    criterion=AC-002.6
    Resume Of Unknown Stream Should Be Refused    criterion=AC-002.6

Large Stream Cut Several Times Is Delivered Intact
    [Documentation]    A 4 MB stream cut several times arrives whole, and the client's memory
    ...    overhead stays under the source review's bound.
    [Tags]    AC-002.7    slow
    Start Measuring Client Memory
    Connect To Stream Service    ${TARGET_URL}
    Start Stream    large    size=${LARGE_STREAM_BYTES}    chunk_size=${LARGE_CHUNK_BYTES}
    ...    interval=${LARGE_CHUNK_INTERVAL}
    ${cuts}    Receive Streams With Cuts    large    every_chunks=${LARGE_CUT_EVERY_CHUNKS}
    ...    max_cuts=${LARGE_STREAM_CUTS}    timeout=60 s
    Stream Should Be Intact    large    criterion=AC-002.7
    Should Be Equal As Integers    ${cuts}    ${LARGE_STREAM_CUTS}
    ...    The stream ended after ${cuts} of ${LARGE_STREAM_CUTS} planned cuts.    values=False
    Client Memory Overhead Should Be Below    ${CLIENT_MEMORY_MAX_MB}    criterion=AC-002.7

Stream Cut Every 200 ms Still Completes Intact
    [Documentation]    Rapid reconnection: the connection is cut every 200 ms until the
    ...    stream is done; it completes intact.
    [Tags]    AC-002.8
    Connect To Stream Service    ${TARGET_URL}
    Start Stream    flapping    size=40000    chunk_size=200    interval=${CHUNK_INTERVAL}
    ${cuts}    Receive Streams With Cuts    flapping    every=${RAPID_CUT_INTERVAL}    timeout=30 s
    Should Be True    ${cuts} >= ${RAPID_MIN_CUTS}    Only ${cuts} cut(s) happened; the stream ended too soon.
    Stream Should Be Intact    flapping    criterion=AC-002.8

Stream Completes Intact Through A Degraded Network
    [Documentation]    Through the fault proxy (latency with jitter both ways, a bandwidth cap
    ...    downstream), a stream cut by the network (the proxy resets the connection)
    ...    several times still completes intact. The first cut is armed with the start
    ...    request, so the planned cuts land at fixed chunks however fast the stream runs.
    [Tags]    AC-002.9
    ${proxied}    Create Proxy    ${TARGET_URL}    name=degraded-network    seed=${PROXY_SEED}
    Add Latency    degraded-network    ${PROXY_LATENCY}    jitter=${PROXY_JITTER}    direction=both
    Limit Bandwidth    degraded-network    ${PROXY_RATE_KBPS}    direction=downstream
    Connect To Stream Service    ${proxied}
    Start Stream    degraded    size=400000    chunk_size=4000    cut_after=${PROXY_CUT_EVERY_CHUNKS}
    ${cuts}    Receive Streams With Cuts    degraded    every_chunks=${PROXY_CUT_EVERY_CHUNKS}
    ...    max_cuts=${PROXY_CUTS}    timeout=30 s
    Stream Should Be Intact    degraded    criterion=AC-002.9
    Should Be Equal As Integers    ${cuts}    ${PROXY_CUTS}
    ...    The proxy cut the stream ${cuts} time(s), not the planned ${PROXY_CUTS}.    values=False
    Recovery Times Should Be Within    degraded    reconnect=${RECONNECT_MAX}    resume=${RESUME_MAX}
    ...    total=${TOTAL_RECOVERY_MAX}    criterion=AC-002.9
    [Teardown]    Run Keywords    Report And Close Streams    AND    Delete Proxy    ALL
