"""Regression: a resume cut near the last chunk must never be refused on a healthy server.

bench/resume.py once failed with ``unknown-stream``. Root cause: the client acks the last
chunk and acks again on the end (cumulative acks may repeat); the first ack retires the
stream as complete, and the server answered the repeated ack with ``unknown-stream``. The
client read that error, which arrived while it was still waking up from the resume, as the
resume's refusal.

Also here: the ``max_in_flight`` window (protocol section 8) that bench/resume.py uses.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest
from websockets.sync.client import connect

from wsresilience.core.streams.backoff import BackoffPolicy
from wsresilience.core.runtime.loop import wait_until
from wsresilience.core.servers.process import ServerProcess
from wsresilience.core.streams.adapter import ReferenceAdapter, StreamRequest
from wsresilience.core.streams.session import StreamSession
from wsresilience.errors import StreamRefused

CHUNKS = 16
ACK_EVERY = 8


def _recv(ws: object) -> dict[str, object]:
    return json.loads(ws.recv(timeout=5))  # type: ignore[attr-defined]


def test_repeated_ack_of_a_completed_stream_is_not_an_error(quiet_refserver: ServerProcess) -> None:
    with connect(quiet_refserver.url) as ws:
        ws.send(json.dumps({"type": "stream-start", "ref": "r", "request": {
            "kind": "text", "size": 64, "chunk_size": 16, "seed": 1}}))
        stream = _recv(ws)["stream"]
        while (message := _recv(ws))["type"] != "stream-end":
            pass
        for _ in range(2):  # the last chunk's ack, then the end's ack: the stream retires
            ws.send(json.dumps({"type": "stream-ack", "stream": stream, "seq": 4}))
        # A resume holding every chunk (the cut took the end): resumed, and the end again.
        ws.send(json.dumps({"type": "stream-resume", "stream": stream, "last_seq": 4}))
        assert _recv(ws)["type"] == "stream-resumed"
        again = _recv(ws)
        assert again["type"] == "stream-end" and again["sha256"] == message["sha256"], again
        # A resume short of the end on a fully acked stream: explicitly complete.
        ws.send(json.dumps({"type": "stream-resume", "stream": stream, "last_seq": 2}))
        answer = _recv(ws)
        assert (answer["type"], answer.get("code")) == ("error", "stream-complete"), answer


async def _cut_near_the_end(url: str, i: int, before_end: int) -> str:
    """Cut ``before_end`` chunks before the last one, resume, wait for the end."""
    policy = BackoffPolicy(base=0.01, factor=2, cap=0.2, limit=10, seed=1)
    session = StreamSession(f"s{i}", url, ReferenceAdapter(), policy, ack_every=ACK_EVERY)
    await session.connect()
    try:
        stream = await session.start("x", StreamRequest("text", CHUNKS * 512, 512, seed=i), 10)
        stream.cut_after = CHUNKS - before_end
        cut = await wait_until(lambda: session.connection is None or session.connection.cut
                               or stream.ended_at is not None, session.changed, 10)
        assert cut, f"stream {i}: neither cut nor ended within 10 s"
        if stream.ended_at is None:
            await session.resume(10)
            assert await session.wait_complete(["x"], 10), f"stream {i}: no end within 10 s"
        return "intact" if not stream.assembly.problems() else "broken"
    except StreamRefused as exc:
        return str(exc)
    finally:
        await session.close()


def test_resume_cut_at_or_near_the_last_chunk_is_never_refused(quiet_refserver: ServerProcess) -> None:
    async def run() -> Counter[str]:
        outcomes: Counter[str] = Counter()
        for _ in range(3):
            outcomes.update(await asyncio.gather(*(_cut_near_the_end(quiet_refserver.url, i, i % 3)
                                                   for i in range(100))))
        return outcomes

    outcomes = asyncio.run(run())
    assert outcomes == Counter(intact=300), dict(outcomes)


def test_max_in_flight_holds_the_server_to_the_window_until_an_ack(quiet_refserver: ServerProcess) -> None:
    with connect(quiet_refserver.url) as ws:
        ws.send(json.dumps({"type": "stream-start", "ref": "r", "request": {
            "kind": "text", "size": 160, "chunk_size": 16, "seed": 1, "max_in_flight": 3}}))
        stream = _recv(ws)["stream"]
        assert [_recv(ws)["seq"] for _ in range(3)] == [1, 2, 3]
        with pytest.raises(TimeoutError):  # the window is full: nothing more until an ack
            ws.recv(timeout=0.3)
        ws.send(json.dumps({"type": "stream-ack", "stream": stream, "seq": 2}))
        assert [_recv(ws)["seq"] for _ in range(2)] == [4, 5]
    with connect(quiet_refserver.url) as ws:  # a resume acks 1..last_seq, reopening the window
        ws.send(json.dumps({"type": "stream-resume", "stream": stream, "last_seq": 5}))
        assert _recv(ws)["type"] == "stream-resumed"
        assert [_recv(ws)["seq"] for _ in range(3)] == [6, 7, 8]
