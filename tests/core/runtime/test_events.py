"""The event log: thread-safe capture."""

from __future__ import annotations

import threading

from wsresilience.core.runtime.events import EventLog


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


def test_an_hour_of_routine_pings_keeps_the_storage_bounded() -> None:
    """A connection held for an hour at one ping per 0.1 s (36,000 pings, 72,000 routine
    events) keeps at most ``ROUTINE_KEEP`` of them as events, yet counts and spaces them
    all exactly, and keeps every non-routine event."""
    from wsresilience.core.runtime.events import ROUTINE_KEEP

    log = EventLog()
    log.record("state", "OPEN", t=0.0)
    sizes = []
    for i in range(36_000):
        t = 1.0 + i * 0.1 + (0.05 if i == 20_000 else 0.0)  # one ping 50 ms late
        log.record("ping received", "4 bytes", t=t)
        log.record("pong sent", t=t + 0.001)
        if i % 6_000 == 0:
            sizes.append(len(log))
    log.record("state", "CLOSED", t=4000.0)

    assert len(log) == ROUTINE_KEEP + 2
    assert sizes[1:] == [ROUTINE_KEEP + 1] * (len(sizes) - 1)  # flat after the first minutes
    assert log.count("ping received") == 36_000 and log.count("pong sent") == 36_000
    assert log.dropped == 72_000 - ROUTINE_KEEP
    stats = log.stats("ping received")
    assert stats is not None and stats.gaps == 35_999
    assert round(stats.gap_min, 6) == 0.05 and round(stats.gap_max, 6) == 0.15
    assert round(stats.gap_mean, 6) == round((1.0 + 35_999 * 0.1 - 1.0) / 35_999, 6)
    assert log.first("ping received").t == 1.0 and log.last("pong sent").t == 1.0 + 35_999 * 0.1 + 0.001
    kinds = [e.kind for e in log.snapshot()]
    assert kinds[0] == "state" and kinds[-1] == "state" and len(kinds) == ROUTINE_KEEP + 2
    times = [e.t for e in log.snapshot()]
    assert times == sorted(times)
    assert len(log.of_kind("ping received")) == ROUTINE_KEEP // 2


def test_non_routine_events_are_all_kept_in_order() -> None:
    log = EventLog(keep=2)
    for i in range(5):
        log.record("message in", str(i), t=float(i))
        log.record("ping received", t=i + 0.5)
    assert [e.detail for e in log.of_kind("message in")] == ["0", "1", "2", "3", "4"]
    assert [e.t for e in log.snapshot()] == [0.0, 1.0, 2.0, 3.0, 3.5, 4.0, 4.5]
    assert log.count("message in") == 5 and log.count("ping received") == 5
    assert log.first("message in").detail == "0" and log.last("message in").detail == "4"
    assert log.stats("message in") is None and log.first("pong sent") is None
