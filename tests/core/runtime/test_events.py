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
