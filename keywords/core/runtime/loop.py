"""The library's own asyncio event loop, running in a daemon thread.

Why a thread of our own: Robot Framework runs ``async def`` keywords on a loop that stops
between keywords, so a connection held across a plain ``Sleep`` stops answering pings and a
short server keepalive kills it. Robot's test timeouts also cannot interrupt an ``async def``
keyword. Here the loop runs all the time; keywords are ordinary functions that hand a
coroutine to the loop and wait for the result in short slices, so a Robot timeout (raised in
the main thread between slices) stops the wait and cancels the coroutine.

One loop is shared by every library in the process: :func:`acquire_loop` starts it on first
use and :func:`release_loop` stops it when the last user lets go.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from wsresilience.errors import WaitTimeout

T = TypeVar("T")

#: How long one wait slice lasts: short enough that Robot timeouts land promptly.
WAIT_SLICE = 0.05


class LoopThread:
    """An asyncio loop in a daemon thread, with blocking helpers for keyword code."""

    def __init__(self, name: str = "wsresilience-loop") -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop; starts it if needed."""
        if not self.running:
            self.start()
        assert self._loop is not None
        return self._loop

    @property
    def running(self) -> bool:
        """Whether the loop thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the loop thread (idempotent)."""
        if self.running:
            return
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError(f"Event loop thread {self.name!r} did not start within 5 s.")

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.call_soon(self._ready.set)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop and return a thread-safe future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(
        self,
        coro: Coroutine[Any, Any, T],
        timeout: float,
        what: str,
        target: str = "",
    ) -> T:
        """Run ``coro`` on the loop and wait for its result, at most ``timeout`` seconds.

        Waits in slices of :data:`WAIT_SLICE` so that Robot's own timeouts can interrupt.
        On timeout the coroutine is cancelled and :class:`WaitTimeout` says what was awaited,
        where, and for how long. Any other interruption also cancels the coroutine.
        """
        started = time.monotonic()
        future = self.submit(coro)
        try:
            while True:
                remaining = timeout - (time.monotonic() - started)
                if remaining <= 0:
                    raise WaitTimeout(what, time.monotonic() - started, target)
                try:
                    return future.result(timeout=min(WAIT_SLICE, remaining))
                except concurrent.futures.TimeoutError:
                    # Since Python 3.11 this is the builtin TimeoutError, which the coroutine
                    # itself may raise: only an unfinished future means "keep waiting". A
                    # coroutine's own bare timeout (asyncio.wait_for inside it) is worded
                    # like ours: what was awaited, where, and how long it waited.
                    if not future.done():
                        continue
                    error = future.exception()
                    if isinstance(error, TimeoutError) and not isinstance(error, WaitTimeout):
                        raise WaitTimeout(what, time.monotonic() - started, target, str(error)) from error
                    raise
        finally:
            if not future.done():
                future.cancel()

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 5.0) -> T:
        """Run a plain function on the loop thread and return its result."""

        async def invoke() -> T:
            return fn(*args)

        return self.run(invoke(), timeout, f"{getattr(fn, '__name__', 'call')} on the event loop")

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel every task, stop the loop and join the thread."""
        if not self.running or self._loop is None:
            return
        loop = self._loop

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=timeout)

        try:
            self.run(cancel_all(), timeout + 1, "tasks to cancel while stopping the loop")
        finally:
            loop.call_soon_threadsafe(loop.stop)
            assert self._thread is not None
            self._thread.join(timeout)
            self._thread = None
            self._loop = None


async def wait_until(
    predicate: Callable[[], bool],
    changed: asyncio.Event,
    timeout: float,
) -> bool:
    """Wait until ``predicate()`` holds, re-checking each time ``changed`` is set.

    Every wait has a bound: returns False on timeout instead of raising, so callers can
    word their own one-line failure.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        changed.clear()
        if predicate():
            break
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return False
        try:
            await asyncio.wait_for(changed.wait(), remaining)
        except TimeoutError:
            return predicate()
    return True


async def gather_settled(*aws: Awaitable[Any]) -> list[Any]:
    """Await everything, returning results or exceptions in order (never raises)."""
    return list(await asyncio.gather(*aws, return_exceptions=True))


_shared_lock = threading.Lock()
_shared: LoopThread | None = None
_users = 0


def acquire_loop() -> LoopThread:
    """The process-wide loop, started on first use; pair each call with :func:`release_loop`."""
    global _shared, _users
    with _shared_lock:
        if _shared is None:
            _shared = LoopThread()
        _shared.start()
        _users += 1
        return _shared


def release_loop() -> None:
    """Let go of the shared loop; the last user stops it."""
    global _shared, _users
    with _shared_lock:
        if _users == 0:
            return
        _users -= 1
        if _users == 0 and _shared is not None:
            _shared.stop()
            _shared = None
