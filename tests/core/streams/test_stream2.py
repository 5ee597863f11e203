"""``stream/2``: chunks batched in binary frames, negotiated at the start, checked as strictly.

The reference adapter offers ``stream/2``; the reference server takes it, and a ``stream/1``
service (the reference server asked without the offer, or a server of our own) ignores it.
Each chunk of a batch reaches the session as its own ``ChunkIn`` with the seq the frame's
header names, so a gap or a repeat inside a batch fails exactly the checks it fails in
``stream/1``: shown against a server of our own (tests/support/stream_servers.py) that
leaves out or repeats seq 3, once per protocol, with the same verdicts.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from support import stream_servers
from wsresilience.core.servers.process import ServerProcess
from wsresilience.core.streams.adapter import (
    ChunkIn,
    ReferenceAdapter,
    StreamRequest,
    UnexpectedMessage,
    load_adapter,
    parse_batch,
)
from wsresilience.core.streams.backoff import BackoffPolicy
from wsresilience.core.streams.cuts import receive_with_cuts
from wsresilience.core.streams.session import StreamSession
from wsresilience.core.streams.tracked import TrackedStream
from wsresilience.refserver.stream_frames import batch_frame, chunk_message

STREAM_1 = ("stream/1",)

# -- the frame, and the offer ------------------------------------------------------------------------


def test_a_batch_frame_reads_back_as_one_chunk_per_seq_its_header_names() -> None:
    frame = batch_frame("S", [(4, "déjà ", "text"), (5, "vu", "text"), (9, "", None)])
    assert parse_batch(frame) == [ChunkIn("S", 4, "déjà ", "text"), ChunkIn("S", 5, "vu", "text"),
                                  ChunkIn("S", 9, "", None)]
    assert ReferenceAdapter().parse(frame) == parse_batch(frame)


@pytest.mark.parametrize("frame, what", [
    (b'{"type":"chunks","stream":"S","seq":[1,2],"len":[2,2]}\nabc',
     "a 'chunks' frame whose header (2 seqs, 2 lengths adding up to 4 bytes) does not match its 3 bytes of data"),
    (b'{"type":"chunks","stream":"S","seq":[1],"len":[2,1]}\nabc',
     "a 'chunks' frame whose header (1 seqs, 2 lengths adding up to 3 bytes) does not match its 3 bytes of data"),
    (b'{"type":"chunk","stream":"S","seq":[1],"len":[1]}\na', "a binary message of type 'chunk', not 'chunks'"),
    (b'{"type":"chunks","seq":[1],"len":[1]}\na', "a 'chunks' frame with a missing or bad field (KeyError: 'stream')"),
    (b"no header at all", "a binary message"),
])
def test_a_batch_frame_that_does_not_add_up_is_refused(frame: bytes, what: str) -> None:
    with pytest.raises(UnexpectedMessage) as refused:
        ReferenceAdapter().parse(frame)
    assert str(refused.value) == what


def test_an_adapter_that_offers_only_stream_1_refuses_any_binary_frame_and_offers_nothing() -> None:
    adapter = ReferenceAdapter(STREAM_1)
    with pytest.raises(UnexpectedMessage, match="^a binary message$"):
        adapter.parse(batch_frame("S", [(1, "a", None)]))
    assert "protocols" not in json.loads(adapter.start_message(StreamRequest(), "r-1"))
    assert json.loads(ReferenceAdapter().start_message(StreamRequest(), "r-1"))["protocols"] == ["stream/2", "stream/1"]
    with pytest.raises(ValueError, match="stream/3"):
        ReferenceAdapter(("stream/3",))
    by_path = load_adapter("wsresilience.extend.ReferenceStream1Adapter")
    assert by_path.protocols == STREAM_1 and "protocols" not in json.loads(by_path.start_message(StreamRequest(), "r"))


def test_stream_1_chunk_messages_are_the_text_json_dumps_gives() -> None:
    for data, component in [('a "quoted"\n\\ line é', None), ("{}", "data")]:
        message = {"type": "chunk", "stream": "Ab-_9", "seq": 12, "data": data}
        if component:
            message["component"] = component
        assert chunk_message("Ab-_9", 12, data, component) == json.dumps(message, separators=(",", ":"))


# -- the reference server negotiates -------------------------------------------------------------------


async def _first_chunk(url: str, offer: list[str] | None) -> tuple[str, str | bytes]:
    start = {"type": "stream-start", "ref": "r", "request": {"kind": "text", "size": 100, "chunk_size": 10}}
    if offer is not None:
        start["protocols"] = offer
    async with connect(url, ping_interval=None) as ws:
        await ws.send(json.dumps(start))
        started = json.loads(await ws.recv())
        return started["protocol"], await ws.recv()


@pytest.mark.parametrize("offer, protocol, frame", [
    (None, "stream/1", str), (["stream/1"], "stream/1", str), (["stream/9", "stream/1"], "stream/1", str),
    (["stream/2", "stream/1"], "stream/2", bytes), (["stream/2"], "stream/2", bytes),
])
def test_the_reference_server_streams_in_the_version_it_was_offered(
        quiet_refserver: ServerProcess, offer: list[str] | None, protocol: str, frame: type) -> None:
    said, first = asyncio.run(_first_chunk(quiet_refserver.url, offer))
    assert (said, type(first)) == (protocol, frame)
    if frame is bytes:  # every chunk of the stream was ready: one frame holds all ten
        assert [c.seq for c in parse_batch(first)] == list(range(1, 11))


async def _cut_and_resumed(url: str, adapter: ReferenceAdapter, max_in_flight: int = 8) -> tuple[TrackedStream, int]:
    session = StreamSession("s", url, adapter, BackoffPolicy(base=0.01, cap=0.05, limit=5), ack_every=4)
    await session.connect()
    try:
        stream = await session.start("x", StreamRequest("text", 64 * 256, 256, seed=3, max_in_flight=max_in_flight), 5,
                                     cut_after=5)
        made = await receive_with_cuts(session, ["x"], 5, None, 6, 20)
        return stream, made
    finally:
        await session.close()


@pytest.mark.parametrize("protocols", [STREAM_1, ("stream/2", "stream/1")])
def test_a_stream_cut_inside_batches_resumes_right_after_its_last_seq(
        quiet_refserver: ServerProcess, protocols: tuple[str, ...]) -> None:
    stream, cuts = asyncio.run(_cut_and_resumed(quiet_refserver.url, ReferenceAdapter(protocols)))
    assert cuts == 6 and len(stream.recoveries) == 6
    assert all(r.first_seq == r.last_seq + 1 for r in stream.recoveries), stream.recoveries
    assert stream.problems() == [] and stream.assembly.duplicates == []


@pytest.fixture(scope="module")
def resume_skips() -> object:
    proc = ServerProcess(["--port", "0", "--ping-interval", "0", "--defect", "resume-skips"])
    proc.start(15)
    yield proc
    proc.stop()


def test_a_resume_that_skips_fails_over_stream_2_as_over_stream_1(resume_skips: ServerProcess) -> None:
    verdicts = []
    for protocols in (STREAM_1, ("stream/2", "stream/1")):
        # No in-flight window: past a skipped seq the client can never ack, and the window would stall.
        stream, _ = asyncio.run(_cut_and_resumed(resume_skips.url, ReferenceAdapter(protocols), 0))
        r = stream.recoveries[0]
        verdicts.append(stream.problems()[0].replace(f"seq {r.last_seq} ", "seq N ")
                        .replace(f"seq {r.last_seq + 2} ", "seq N+2 ").replace(f"{r.last_seq + 1})", "N+1)"))
    assert verdicts[0] == verdicts[1] == "cut 1: the resume after seq N replayed from seq N+2 (expected N+1)"


# -- a stream/2 server that skips or repeats a chunk inside a batch ------------------------------------


class CountingAdapter(ReferenceAdapter):
    """The reference adapter, counting the binary frames it reads (so a test knows which
    protocol the stream came in)."""

    frames = 0

    def parse(self, message: str | bytes) -> list:
        self.frames += isinstance(message, bytes)
        return super().parse(message)


async def _receive(url: str, adapter: ReferenceAdapter) -> TrackedStream:
    session = StreamSession("s", url, adapter, BackoffPolicy(limit=1))
    await session.connect()
    try:
        stream = await session.start("x", StreamRequest("text", 37, 8), 5)
        assert await session.wait_complete(["x"], 5), "the test server never ended the stream"
        assert session.unexpected == []
        return stream
    finally:
        await session.close()


def _verdicts(mode: str, protocols: tuple[str, ...]) -> tuple[str | None, list[int], list[int]]:
    """What the checks say of the stream (intact, or the failure), its repeats, the seqs
    that arrived; asserts the stream came in the protocol offered."""
    adapter = CountingAdapter(protocols)
    with stream_servers.running("--chunks", mode, "--stream2") as url:
        stream = asyncio.run(_receive(url, adapter))
    assert adapter.frames == (1 if "stream/2" in protocols else 0)
    return stream.failure(), stream.assembly.duplicates, [a.seq for a in stream.assembly.arrivals]


@pytest.mark.parametrize("mode, failure, duplicates", [
    ("whole", None, []),
    ("skip", "Stream 'x' is not intact: first missing seq 3 (1 of 6 missing).", []),
    # An exact repeat is dropped by the assembly and named by the resume-position check
    # (`Resume Should Continue Right After The Last Chunk`: "first duplicated seq 3"), in both.
    ("duplicate", None, [3]),
])
def test_a_chunk_skipped_or_repeated_inside_a_batch_fails_the_checks_it_fails_in_stream_1(
        mode: str, failure: str | None, duplicates: list[int]) -> None:
    over_1 = _verdicts(mode, STREAM_1)
    over_2 = _verdicts(mode, ("stream/2", "stream/1"))
    assert over_2 == over_1
    assert over_2[:2] == (failure, duplicates)
    assert over_2[2] == stream_servers.SEQS[mode]
