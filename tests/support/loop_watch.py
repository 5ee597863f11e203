"""A Robot library for tests: watches the library's event loop threads while a suite runs.

``Library    support.loop_watch.LoopWatch`` (in-process runs, where ``tests/`` is on the path).
"""

from __future__ import annotations

import threading

from robot.libraries.BuiltIn import BuiltIn

#: The name of the shared loop thread (``wsresilience.core.runtime.loop.LoopThread``).
LOOP_THREAD = "wsresilience-loop"


def loop_threads() -> list[threading.Thread]:
    """The live loop threads of this process."""
    return [t for t in threading.enumerate() if t.name == LOOP_THREAD]


class LoopWatch:
    """Samples the loop threads every 5 ms from `Start Watching Loop Threads` on."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self._seen: set[threading.Thread] = set()
        self._most = 0
        self._samples = 0
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None

    def start_watching_loop_threads(self) -> None:
        """Start sampling (in a thread of its own, so keywords are watched while they run)."""

        def sample() -> None:
            while not self._stop.is_set():
                alive = loop_threads()
                self._seen.update(alive)
                self._most = max(self._most, len(alive))
                self._samples += 1
                self._stop.wait(0.005)

        self._sampler = threading.Thread(target=sample, name="loop-watch", daemon=True)
        self._sampler.start()

    def loop_threads_should_have_been_one(self) -> None:
        """Stop sampling; fail unless exactly one loop thread, the same one, was ever seen."""
        self._stop.set()
        if self._sampler is not None:
            self._sampler.join(2)
        if self._most != 1 or len(self._seen) != 1:
            raise AssertionError(f"Expected one loop thread throughout; saw at most {self._most} at once and "
                                 f"{len(self._seen)} different ones in {self._samples} samples.")

    def components_should_share_one_context(self, library: str) -> None:
        """Fail unless every component of ``library`` holds that library's context, and its
        loop is the one loop thread."""
        lib = BuiltIn().get_library_instance(library)
        components = [lib.component(kind) for kind in lib.COMPONENTS]
        strays = [type(c).__name__ for c in components if c.ctx is not lib.ctx]
        if strays:
            raise AssertionError(f"Components on another context: {', '.join(strays)}.")
        listeners = lib.ROBOT_LIBRARY_LISTENER  # pythonlibcore makes it a list
        if lib.ctx not in (listeners if isinstance(listeners, list) else [listeners]):
            raise AssertionError("The library's listener is not its context: nothing would close it.")
        if lib.ctx.loop.name != LOOP_THREAD or not lib.ctx.loop.running:
            raise AssertionError(f"The context's loop is {lib.ctx.loop.name!r}, running={lib.ctx.loop.running}.")
