"""Unit tests: stream assembly and verification on crafted sequences, the backoff schedule,
the evidence of a resumed stream, and the public adapter API."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest

from wsresilience.core.evidence.streams import (
    chunk_points,
    integrity_figures,
    recovery_marks,
    recovery_table,
    resume_position_figures,
    retry_delay_figures,
    stream_resume_chart,
)
from wsresilience.core.streams.adapter import StreamRequest
from wsresilience.core.streams.assembly import EndInfo, StreamAssembly
from wsresilience.core.streams.backoff import Attempt, BackoffPolicy, RetryLog, retry
from wsresilience.core.streams.tracked import Recovery, TrackedStream
from wsresilience.errors import RetriesExhausted
from wsresilience.refserver.stream_content import DOCUMENT_SCHEMA, generate

CHUNKS = ["alpha ", "beta ", "gamma ", "delta ", "epsilon"]


def end_for(chunks: list[str]) -> EndInfo:
    payload = "".join(chunks).encode()
    return EndInfo(len(chunks), hashlib.sha256(payload).hexdigest(), len(payload))


def assemble(order: list[int], chunks: list[str] = CHUNKS, data: dict[int, str] | None = None,
             **kwargs: object) -> StreamAssembly:
    a = StreamAssembly(announced_size=len("".join(chunks)), **kwargs)  # type: ignore[arg-type]
    for seq in order:
        a.add(seq, (data or {}).get(seq, chunks[seq - 1]))
    a.finish(end_for(chunks))
    return a


def test_in_order_stream_is_intact() -> None:
    a = assemble([1, 2, 3, 4, 5])
    assert a.problems() == []
    assert a.payload() == "".join(CHUNKS)
    a.verify()


def test_gap_names_the_first_missing_seq() -> None:
    a = assemble([1, 2, 4, 5])
    assert a.problems()[0] == "first missing seq 3 (1 of 5 missing)"
    with pytest.raises(AssertionError, match="first missing seq 3"):
        a.verify("s")


def test_exact_repeat_is_dropped_but_counted_and_strict_mode_fails_it() -> None:
    lenient = assemble([1, 2, 3, 3, 4, 5])
    assert lenient.problems() == [] and lenient.duplicates == [3]
    strict = assemble([1, 2, 3, 3, 4, 5], strict_duplicates=True)
    assert strict.problems()[0].startswith("first duplicated seq 3")


def test_repeat_with_different_data_is_a_conflict() -> None:
    a = StreamAssembly()
    a.add(1, "x")
    a.add(1, "y")
    a.finish(end_for(["x"]))
    assert a.problems()[0].startswith("seq 1 arrived twice with different data")


def test_reorder_on_one_connection_is_reported() -> None:
    a = assemble([1, 3, 2, 4, 5])
    assert any("out of order: seq 2 arrived after seq 3" in p for p in a.problems())


def test_corrupt_byte_fails_the_hash() -> None:
    a = assemble([1, 2, 3, 4, 5], data={2: "bfta "})
    assert a.problems()[0].startswith("SHA-256 mismatch")


def test_truncated_end_that_claims_completeness_is_caught_by_the_announced_size() -> None:
    short = CHUNKS[:3]
    a = StreamAssembly(announced_size=len("".join(CHUNKS)))
    for seq in (1, 2, 3):
        a.add(seq, CHUNKS[seq - 1])
    a.finish(end_for(short))
    assert a.problems() == [f"truncated: assembled {len(''.join(short))} bytes, but the stream "
                            f"was announced as {len(''.join(CHUNKS))} bytes"]


def test_stream_without_end_is_reported() -> None:
    a = StreamAssembly()
    a.add(1, "x")
    assert "never ended" in a.problems()[0]


def test_chunk_beyond_the_declared_end() -> None:
    a = assemble([1, 2, 3, 4, 5])
    a.add(6, "extra")
    assert any("seq 6 arrived beyond the declared end" in p for p in a.problems())


def _content_assembly(request: dict[str, object], drop: set[int] = frozenset(),  # type: ignore[assignment]
                      flip: int | None = None) -> StreamAssembly:
    content = generate(request)
    a = StreamAssembly(content.kind, content.size, content.schema,
                       [c["name"] for c in content.components])
    for seq, chunk in enumerate(content.chunks, start=1):
        if seq in drop:
            continue
        data = chunk.data
        if seq == flip:
            data = data[:-1] + chr(ord(data[-1]) ^ 1)
        a.add(seq, data, chunk.component)
    end_components = [{k: c[k] for k in ("name", "chunks", "sha256")} for c in content.components]
    a.finish(EndInfo(len(content.chunks), content.sha256, content.size, end_components))
    return a


def test_json_document_parses_and_matches_its_schema() -> None:
    a = _content_assembly({"kind": "json", "size": 5000, "chunk_size": 300, "seed": 4})
    assert a.problems() == []
    assert json.loads(a.payload())["id"] == "doc-4"
    assert a.schema == DOCUMENT_SCHEMA


def test_json_that_breaks_its_schema_is_named() -> None:
    doc = json.dumps({"id": "doc-1", "title": "t", "items": [{"n": "one"}]})
    a = StreamAssembly("json", len(doc), DOCUMENT_SCHEMA)
    a.add(1, doc)
    a.finish(end_for([doc]))
    assert a.problems()[0].startswith("the JSON document does not match its schema at items/0")


def test_json_that_does_not_parse_is_named() -> None:
    a = StreamAssembly("json", 3)
    a.add(1, '{"a')
    a.finish(end_for(['{"a']))
    assert a.problems()[0].startswith("the JSON document does not parse")


def test_multipart_names_a_missing_component() -> None:
    request = {"kind": "multipart", "size": 3000, "chunk_size": 500,
               "components": [["summary", "text"], ["data", "json"], ["code", "code"]]}
    content = generate(request)
    code_seqs = {i for i, c in enumerate(content.chunks, start=1) if c.component == "code"}
    a = StreamAssembly("multipart", None, None, ["summary", "data", "code"])
    for seq, chunk in enumerate(content.chunks, start=1):
        if seq not in code_seqs:
            a.add(seq, chunk.data, chunk.component)
    a.finish(EndInfo(len(content.chunks) - len(code_seqs), "x", None,
                     [{"name": "summary"}, {"name": "data"}]))
    assert "component 'code' is missing" in a.problems()


def test_multipart_component_twice_and_corrupt_component() -> None:
    a = _content_assembly({"kind": "multipart", "size": 3000, "chunk_size": 500}, flip=4)
    assert "component 'data' differs" in a.problems()[0]
    b = StreamAssembly("multipart", None, None, ["a", "b"])
    for seq, comp in enumerate(["a", "b", "a"], start=1):
        b.add(seq, "x", comp)
    b.finish(end_for(["x", "x", "x"]))
    assert "component 'a' arrived in more than one part" in b.problems()


def test_backoff_ceilings_grow_by_factor_up_to_the_cap() -> None:
    p = BackoffPolicy(base=0.1, factor=2, cap=0.5, limit=6, jitter="none")
    assert [p.ceiling(n) for n in range(1, 7)] == [0.0, 0.1, 0.2, 0.4, 0.5, 0.5]
    assert p.schedule() == [0.1, 0.2, 0.4, 0.5, 0.5]


def test_full_jitter_is_within_bounds_and_reproducible() -> None:
    p = BackoffPolicy(base=0.05, factor=3, cap=1.0, limit=10, jitter="full", seed=42)
    delays = p.schedule()
    assert delays == p.schedule()
    assert all(0 <= d <= p.ceiling(n) for n, d in enumerate(delays, start=2))
    assert delays != BackoffPolicy(base=0.05, factor=3, cap=1.0, limit=10, seed=43).schedule()


def test_bad_policy_is_rejected() -> None:
    with pytest.raises(ValueError, match="factor >= 1"):
        BackoffPolicy(factor=0.5)


def test_retry_gives_up_after_the_limit_naming_attempts_and_last_error() -> None:
    p = BackoffPolicy(base=0.001, factor=2, cap=0.004, limit=4, seed=1)
    slept: list[float] = []
    calls = 0

    async def fail() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionRefusedError(f"refused #{calls}")

    async def fake_sleep(d: float) -> None:
        slept.append(d)

    log = RetryLog(p)
    with pytest.raises(RetriesExhausted, match=r"after 4 attempts .* last error: refused #4"):
        asyncio.run(retry(fail, p, "connecting", log, sleep=fake_sleep))
    assert calls == 4 and slept == p.schedule() == log.planned_delays


def test_retry_returns_on_the_first_success() -> None:
    p = BackoffPolicy(base=0.001, limit=5)
    outcomes = iter([OSError("down"), OSError("down"), "ok"])

    async def flaky() -> str:
        value = next(outcomes)
        if isinstance(value, Exception):
            raise value
        return value

    log = RetryLog(p)
    assert asyncio.run(retry(flaky, p, "x", log)) == "ok"
    assert [a.error for a in log.attempts] == ["down", "down", ""]


# -- evidence of a resumed stream ---------------------------------------------------------------


def _tracked_with_one_cut() -> TrackedStream:
    """Chunks 1-4 live, a cut after seq 3 (4 was in flight), then 3 again and 4-5 resumed."""
    stream = TrackedStream("s", StreamRequest(), started_at=100.0)
    for seq, t in ((1, 100.1), (2, 100.2), (3, 100.3)):
        stream.assembly.add(seq, CHUNKS[seq - 1], connection=1, t=t)
    stream.recoveries.append(Recovery(100.35, 3, "after chunk", connected_at=100.5, attempts=1,
                                      first_chunk_at=100.6, first_seq=3, completed_at=100.8))
    for seq, t in ((3, 100.6), (4, 100.7), (5, 100.8)):
        stream.assembly.add(seq, CHUNKS[seq - 1], connection=2, t=t, replay=True)
    stream.assembly.finish(end_for(CHUNKS))
    return stream


def test_chunk_points_tell_live_replayed_and_duplicate_apart() -> None:
    points = chunk_points(_tracked_with_one_cut())
    assert [(round(t, 3), seq, kind) for t, seq, kind in points] == [
        (0.1, 1, "live"), (0.2, 2, "live"), (0.3, 3, "live"),
        (0.6, 3, "duplicate"), (0.7, 4, "replayed"), (0.8, 5, "replayed")]


def test_one_recovery_is_marked_with_its_seqs_and_the_bound() -> None:
    marks = [(round(t, 3), label) for t, label in recovery_marks(_tracked_with_one_cut(), 5.0)]
    assert marks == [(0.35, "cut after seq 3"), (0.5, "reconnected"), (0.6, "first resumed seq 3"),
                     (5.35, "recovery bound 5000 ms")]


def test_several_recoveries_share_one_label_per_kind() -> None:
    stream = _tracked_with_one_cut()
    stream.recoveries.append(Recovery(100.65, 3, connected_at=100.66, first_chunk_at=100.7, first_seq=4))
    labels = [label for _, label in recovery_marks(stream)]
    assert labels == ["cut", "reconnected", "first resumed chunk"] * 2


def test_the_resume_chart_and_tables_of_a_stream_render() -> None:
    stream = _tracked_with_one_cut()
    svg = stream_resume_chart(stream, 5.0)
    assert "cut after seq 3" in svg and "duplicate (1)" in svg and "replayed (2)" in svg
    assert "Recoveries of stream" in recovery_table(stream)
    assert "replayed from seq 3 (expected 4)" in recovery_table(stream)
    # The replay repeated seq 3: the assembler drops the repeat, so the payload is whole, but
    # the resume started in the wrong place, and both checks of the stream say so.
    figures = integrity_figures(stream, "AC-x")
    assert [f.passed for f in figures] == [True, True, True, False, True]
    assert [f.passed for f in resume_position_figures(stream)] == [False, False, True]


def test_the_public_extension_api_has_what_docs_adapters_md_imports() -> None:
    import re

    import wsresilience.extend as extend

    from support import REPO

    doc = (REPO / "docs" / "adapters.md").read_text()
    imported = re.search(r"from wsresilience\.extend import \(([^)]*)\)", doc)
    assert imported, "docs/adapters.md no longer imports from wsresilience.extend"
    names = {n.strip() for n in imported.group(1).split(",") if n.strip()}
    assert names <= set(extend.__all__)
    assert all(hasattr(extend, n) for n in extend.__all__)
    assert "wsresilience.core" not in doc.split("```python", 1)[1]


# -- retry delays, each judged against its own planned delay ----------------------------------


def _log_with_delays(planned_ms: list[float], measured_ms: list[float]) -> RetryLog:
    """A retry log whose attempts were planned and measured as given (attempt 1 at 0)."""
    log = RetryLog(BackoffPolicy(base=0.05, factor=2, cap=0.4, limit=len(planned_ms) + 1))
    t = 0.0
    log.attempts.append(Attempt(1, 0.0, t, t))
    for n, (p, m) in enumerate(zip(planned_ms, measured_ms), start=2):
        t += m / 1000
        log.attempts.append(Attempt(n, p / 1000, t, t))
    return log


@pytest.mark.parametrize("measured, passed", [
    (16.2, True),    # waited as planned
    (24.0, True),    # 7.8 ms late: within the 10 ms floor
    (0.05, False),   # never waited: the old ± 30 ms tolerance passed it
    (14.0, False),   # ended 13.5 % early: a sleep never does
    (27.0, False),   # 10.8 ms late
])
def test_a_delay_is_judged_against_its_own_planned_value(measured: float, passed: bool) -> None:
    figures = retry_delay_figures(_log_with_delays([16.19], [measured]), 0.10, 0.010)
    assert all(f.passed for f in figures) is passed, [f.describe() for f in figures]


def test_a_long_delay_may_be_late_by_its_share_and_no_tolerance_exceeds_the_delay_early() -> None:
    early, late = retry_delay_figures(_log_with_delays([300.0], [329.0]), 0.10, 0.010)
    assert late.passed and late.threshold == pytest.approx(30.0)  # 10 % of 300 ms beats the floor
    assert early.threshold == pytest.approx(270.0) and early.threshold > 0
