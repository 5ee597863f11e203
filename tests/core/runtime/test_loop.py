"""The core event loop thread: slice waiting, timeouts, interruption, clean shutdown."""

from __future__ import annotations

import asyncio
import signal
import threading
import time

import pytest

from wsresilience.core.runtime import loop as loop_module
from wsresilience.core.runtime.loop import LoopThread, acquire_loop, release_loop, wait_until
from wsresilience.core.runtime.timeouts import percent, seconds
from wsresilience.errors import WaitTimeout


async def forever(cancelled: threading.Event) -> None:
    """Wait for ever; flag the cancellation that must end it."""
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        cancelled.set()
        raise


def test_run_returns_the_coroutine_result(lt: LoopThread) -> None:
    async def answer() -> int:
        await asyncio.sleep(0.01)
        return 42

    assert lt.run(answer(), 2, "the answer") == 42


def test_run_raises_the_coroutine_exception(lt: LoopThread) -> None:
    async def broken() -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        lt.run(broken(), 2, "a broken coroutine")


def test_a_coroutine_raising_timeout_error_fails_at_once(lt: LoopThread) -> None:
    async def gives_up() -> None:
        raise TimeoutError("the server did not answer")

    started = time.monotonic()
    with pytest.raises(TimeoutError, match="the server did not answer"):
        lt.run(gives_up(), 5, "a coroutine that times out itself")
    assert time.monotonic() - started < 1


def test_timeout_fails_in_one_line_and_cancels_the_coroutine(lt: LoopThread) -> None:
    cancelled = threading.Event()

    started = time.monotonic()
    with pytest.raises(WaitTimeout) as info:
        lt.run(forever(cancelled), 0.2, "the server to answer", "ws://127.0.0.1:9/")
    elapsed = time.monotonic() - started
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("Timed out after 0.2")
    assert "waiting for the server to answer at ws://127.0.0.1:9/" in message
    assert 0.2 <= elapsed < 0.5, elapsed
    assert cancelled.wait(1), "the coroutine was not cancelled after the timeout"


class Interrupted(BaseException):
    """Stands in for Robot's TimeoutExceeded, which derives from BaseException."""


def test_an_interruption_between_slices_cancels_the_coroutine(lt: LoopThread) -> None:
    cancelled = threading.Event()

    def interrupt(signum, frame):  # noqa: ANN001
        raise Interrupted()

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.15)
    started = time.monotonic()
    try:
        with pytest.raises(Interrupted):
            lt.run(forever(cancelled), 30, "something that never comes")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 1, "the wait was not interrupted promptly"
    assert cancelled.wait(1)


def test_wait_until_wakes_on_change_and_times_out() -> None:
    async def scenario() -> tuple[bool, bool, float]:
        changed = asyncio.Event()
        box = {"value": 0}

        def bump() -> None:
            box["value"] = 1
            changed.set()

        asyncio.get_running_loop().call_later(0.05, bump)
        started = time.monotonic()
        hit = await wait_until(lambda: box["value"] == 1, changed, 2)
        woke_after = time.monotonic() - started
        miss = await wait_until(lambda: box["value"] == 2, changed, 0.05)
        return hit, miss, woke_after

    hit, miss, woke_after = asyncio.run(scenario())
    assert hit and not miss
    assert woke_after < 0.5


def test_stop_cancels_tasks_and_joins_the_thread() -> None:
    runner = LoopThread(name="stop-test-loop")
    runner.start()
    cancelled = threading.Event()
    runner.submit(forever(cancelled))
    runner.stop()
    assert cancelled.is_set()
    assert not runner.running
    assert "stop-test-loop" not in [t.name for t in threading.enumerate()]


def test_shared_loop_stops_when_the_last_user_releases() -> None:
    assert loop_module._users == 0
    first = acquire_loop()
    second = acquire_loop()
    assert first is second and first.running
    release_loop()
    assert first.running
    release_loop()
    assert not first.running
    assert "wsresilience-loop" not in [t.name for t in threading.enumerate()]


def test_time_arguments() -> None:
    assert seconds("500 ms") == 0.5
    assert seconds(2) == 2.0
    assert seconds(None, 3.0) == 3.0
    assert percent("10%") == pytest.approx(0.1)
    with pytest.raises(ValueError):
        seconds("")
