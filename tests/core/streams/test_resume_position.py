"""Where each resume starts is part of a stream's integrity, whatever came after it.

A resume that skips a chunk is healed by a later resume (the client still asks after its last
contiguous seq), and one that repeats is hidden by the assembler (it drops exact repeats): in
both cases the assembled payload is whole and its hash matches. These tests hold every check
of a resumed stream to "each resume started at last seq + 1", on crafted recoveries and
against the reference server seeded with ``resume-skips-once`` (the first resume of each
stream skips one chunk, later ones are right).
"""

from __future__ import annotations

import asyncio
import json

import pytest

from wsresilience.core.evidence.streams import integrity_figures, recovery_table
from wsresilience.core.runtime.loop import wait_until
from wsresilience.core.servers.process import ServerProcess
from wsresilience.core.streams.adapter import ReferenceAdapter, StreamRequest
from wsresilience.core.streams.assembly import EndInfo
from wsresilience.core.streams.backoff import BackoffPolicy
from wsresilience.core.streams.cuts import receive_with_cuts
from wsresilience.core.streams.session import StreamSession
from wsresilience.core.streams.tracked import Recovery, TrackedStream

CHUNKS = ["alpha ", "beta ", "gamma ", "delta ", "epsilon ", "zeta"]


def _stream(recoveries: list[Recovery]) -> TrackedStream:
    """A stream whose assembly is whole (every chunk once, the end), with ``recoveries``."""
    import hashlib

    stream = TrackedStream("s", StreamRequest(), started_at=0.0)
    for seq, data in enumerate(CHUNKS, start=1):
        stream.assembly.add(seq, data)
    payload = "".join(CHUNKS).encode()
    stream.assembly.finish(EndInfo(len(CHUNKS), hashlib.sha256(payload).hexdigest(), len(payload)))
    stream.recoveries.extend(recoveries)
    return stream


def test_a_skip_healed_by_a_later_resume_still_fails_naming_its_cut_and_seqs() -> None:
    stream = _stream([Recovery(1.0, 2, resumed_from=3, first_chunk_at=1.1, first_seq=4),
                      Recovery(2.0, 2, resumed_from=3, first_chunk_at=2.1, first_seq=3)])
    assert stream.assembly.problems() == []  # the payload healed: the assembler sees nothing
    assert stream.problems() == ["cut 1: the resume after seq 2 replayed from seq 4 (expected 3)"]
    assert stream.failure() == ("Stream 's' is not intact: cut 1: the resume after seq 2 replayed "
                                "from seq 4 (expected 3).")
    misplaced = [f for f in integrity_figures(stream) if "last seq + 1" in f.name]
    assert [(f.value, f.passed) for f in misplaced] == [(1, False)]
    assert "replayed from seq 4 (expected 3)" in recovery_table(stream)


def test_a_resume_that_repeats_the_last_seq_fails() -> None:
    stream = _stream([Recovery(1.0, 3, resumed_from=4, first_chunk_at=1.1, first_seq=3)])
    assert stream.problems() == ["cut 1: the resume after seq 3 replayed from seq 3 (expected 4)"]


def test_an_announced_resume_position_off_last_seq_plus_one_fails() -> None:
    stream = _stream([Recovery(1.0, 3, resumed_from=3, first_chunk_at=1.1, first_seq=4)])
    assert stream.problems() == ["cut 1: the service announced the resume after seq 3 from seq 3 "
                                 "(expected 4)"]


def test_resumes_in_place_and_unanswered_ones_are_no_problem() -> None:
    stream = _stream([Recovery(1.0, 2, resumed_from=3, first_chunk_at=1.1, first_seq=3),
                      Recovery(2.0, 4)])  # cut again before anything was resumed
    assert stream.problems() == [] and stream.failure() is None
    assert all(f.passed for f in integrity_figures(stream))


async def _receive_with_cuts(url: str, cuts: int) -> tuple[TrackedStream, int]:
    session = StreamSession("s", url, ReferenceAdapter(), BackoffPolicy(base=0.01, cap=0.05, limit=5))
    await session.connect()
    try:
        stream = await session.start("x", StreamRequest("text", 60 * 200, 200, seed=1, interval_ms=2), 5)
        made = await receive_with_cuts(session, ["x"], 12, None, cuts, 20)
        return stream, made
    finally:
        await session.close()


@pytest.fixture(scope="module")
def skips_once() -> object:
    proc = ServerProcess(["--port", "0", "--ping-interval", "0", "--defect", "resume-skips-once"])
    proc.start(15)
    yield proc
    proc.stop()


def test_a_server_whose_first_resume_skips_is_caught_though_the_stream_heals(skips_once: ServerProcess) -> None:
    stream, cuts = asyncio.run(_receive_with_cuts(skips_once.url, 3))
    assert cuts == 3
    assert stream.assembly.problems() == []  # healed: whole, hash matches
    (problem,) = stream.problems()
    last = stream.recoveries[0].last_seq
    assert problem == f"cut 1: the resume after seq {last} replayed from seq {last + 2} (expected {last + 1})"


def test_the_healthy_server_resumes_every_cut_in_place(quiet_refserver: ServerProcess) -> None:
    stream, cuts = asyncio.run(_receive_with_cuts(quiet_refserver.url, 3))
    assert cuts == 3 and len(stream.recoveries) == 3
    assert all(r.first_seq == r.last_seq + 1 for r in stream.recoveries), stream.recoveries
    assert stream.problems() == []


def test_a_connection_the_server_drops_after_a_resume_gets_a_recovery_of_its_own(
        quiet_refserver: ServerProcess) -> None:
    """The first recovery keeps its record (and its verdict); the drop is recovery 2, ``lost``."""

    async def run() -> TrackedStream:
        session = StreamSession("s", quiet_refserver.url, ReferenceAdapter(), BackoffPolicy(limit=3))
        await session.connect()
        try:
            stream = await session.start("x", StreamRequest("text", 60 * 200, 200, seed=2, interval_ms=5), 5)
            assert await session.cut_after_chunks("x", 10, 5) is not None
            await session.resume(5)
            assert await wait_until(lambda: stream.recoveries[0].first_seq is not None, session.changed, 5)
            conn = session.connection
            assert conn is not None
            await conn.send(json.dumps({"type": "stream-control", "action": "close", "code": 4000}))
            assert await conn.wait_for(lambda: not conn.is_open, 5), "the server did not close"
            await session.resume(5)
            assert await session.wait_complete(["x"], 10)
            return stream
        finally:
            await session.close()

    stream = asyncio.run(run())
    first, second = stream.recoveries
    assert (first.how, first.last_seq, first.first_seq) == ("after chunk", 10, 11)
    assert second.how == "lost" and second.first_seq == second.last_seq + 1 > 11
    assert stream.problems() == []
