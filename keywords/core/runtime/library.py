"""The base every keyword library builds on: the shared loop, timeouts, suite-end cleanup."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from wsresilience.core.runtime.loop import LoopThread, acquire_loop, release_loop
from wsresilience.core.runtime.timeouts import TimeLike, seconds

T = TypeVar("T")


class _ScopeEndListener:
    """Library listener that runs a cleanup when the library goes out of scope."""

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, cleanup: Callable[[], None]) -> None:
        self._cleanup = cleanup

    def close(self) -> None:
        self._cleanup()


class LoopLibrary:
    """Shared plumbing: a default timeout and the process-wide event loop.

    The loop is acquired on first use and released when the library goes out of scope
    (the end of the suite for suite-scoped libraries); subclasses add their own cleanup in
    :meth:`_cleanup` (close connections, stop servers) and must call ``super()``.
    """

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self, timeout: TimeLike = timedelta(seconds=10)) -> None:
        self._timeout = seconds(timeout)
        self._loop: LoopThread | None = None
        self.ROBOT_LIBRARY_LISTENER = _ScopeEndListener(self._cleanup)

    @property
    def _event_loop(self) -> LoopThread:
        if self._loop is None:
            self._loop = acquire_loop()
        return self._loop

    def _run(self, coro: Coroutine[Any, Any, T], what: str, timeout: float | None = None,
             target: str = "") -> T:
        return self._event_loop.run(coro, self._timeout if timeout is None else timeout, what, target)

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return self._event_loop.call(fn, *args)

    def _cleanup(self) -> None:
        if self._loop is not None:
            self._loop = None
            release_loop()

    def _set_timeout(self, timeout: TimeLike) -> str:
        old = self._timeout
        self._timeout = seconds(timeout)
        return f"{old} seconds"
