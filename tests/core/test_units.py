"""Pure units of the core: events, statistics, evidence, wire parsing, masking."""

from __future__ import annotations

import json
import math
import socket
import threading

import pytest

from wsresilience.core.runtime.events import EventLog
from wsresilience.core.evidence.figures import Figure, figure_table
from wsresilience.core.stats import LatencyStats, percentile
from wsresilience.core.masking import mask_url
from wsresilience.faultproxy.wsframes import OP_CLOSE, OP_PING, encode_frame
from wsresilience.core.client.wire import peek_frames


def test_event_capture_is_thread_safe() -> None:
    log = EventLog()

    def writer(n: int) -> None:
        for i in range(2000):
            log.record("tick", f"{n}-{i}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        assert len(log.snapshot()) <= 16000  # reading while writing never breaks
    for t in threads:
        t.join()
    assert log.count("tick") == 16000
    times = [e.t for e in log.snapshot()]
    assert times == sorted(times) or len(set(e.detail for e in log.snapshot())) == 16000


def test_percentiles_interpolate_linearly() -> None:
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert percentile(values, 50) == pytest.approx(5.5)
    assert percentile(values, 95) == pytest.approx(9.55)
    assert percentile([7], 99) == 7
    assert math.isnan(percentile([], 50))


def test_latency_stats_and_jitter() -> None:
    stats = LatencyStats.of([10, 12, 10, 14])
    assert stats.min == 10 and stats.max == 14 and stats.mean == pytest.approx(11.5)
    assert stats.jitter == pytest.approx((2 + 2 + 4) / 3)
    assert stats.get("P95") == stats.p95
    with pytest.raises(ValueError, match="Unknown statistic"):
        stats.get("p42")
    assert math.isnan(LatencyStats.of([]).p95)


@pytest.mark.parametrize(
    ("value", "comparison", "threshold", "passed", "margin"),
    [
        (80, "<", 100, True, 20),
        (120, "<", 100, False, -20),
        (5, ">=", 5, True, 0),
        (0, "==", 0, True, 0),
        (1, "==", 0, False, -1),
    ],
)
def test_figures_judge_and_measure_their_margin(value, comparison, threshold, passed, margin) -> None:
    figure = Figure("f", value, "ms", threshold, comparison)
    assert figure.passed is passed
    assert figure.verdict == ("PASS" if passed else "FAIL")
    assert figure.margin == pytest.approx(margin)


def test_within_and_nan_figures() -> None:
    assert Figure("spacing", 0.52, "s", 0.5, "within", tolerance=0.05).passed
    assert not Figure("spacing", 0.56, "s", 0.5, "within", tolerance=0.05).passed
    assert not Figure("missing", float("nan"), "s", 1, "<=").passed


def test_figure_table_carries_json_for_the_signoff() -> None:
    html_text = figure_table([Figure("RTT p95", 12.5, "ms", 100, "<", "AC-007.1")])
    assert "class='wsr-figures'" in html_text
    start = html_text.index('data-figures="') + len('data-figures="')
    payload = html_text[start : html_text.index('"', start)]
    import html as html_module

    figures = json.loads(html_module.unescape(payload))
    assert figures[0]["criterion"] == "AC-007.1"
    assert figures[0]["margin"] == pytest.approx(87.5)


def test_peek_frames_reads_without_consuming() -> None:
    """A frozen client peeks at the server's unread frames; they stay in the buffer."""
    ours, theirs = socket.socketpair()
    try:
        ours.setblocking(False)
        assert peek_frames(ours) == ([], False)
        close = encode_frame(OP_CLOSE, (1011).to_bytes(2, "big") + b"keepalive ping timeout")
        theirs.sendall(encode_frame(OP_PING, b"1234") + close + close[:3])
        for _ in range(2):  # peeking twice sees the same frames: nothing was consumed
            frames, reset = peek_frames(ours)
            assert not reset
            assert [f.opcode for f in frames] == [OP_PING, OP_CLOSE]
            assert (frames[1].close_code, frames[1].close_reason) == (1011, "keepalive ping timeout")
    finally:
        ours.close()
        theirs.close()


def test_mask_url_hides_secrets() -> None:
    assert mask_url("wss://bob:hunter2@example.test/ws?token=abc&room=7") == (
        "wss://bob:***@example.test/ws?token=***&room=7"
    )
    assert mask_url("ws://127.0.0.1:8765/") == "ws://127.0.0.1:8765/"
