"""One edge-triggered epoll for every frozen connection on a loop.

A frozen client has paused its transport, so asyncio no longer tells it anything. It still
needs to know when the server's bytes (a ping, a close frame), FIN or reset arrive. Polling
each socket every few milliseconds costs CPU in proportion to the number of frozen clients
(at a thousand it swamps the loop). Instead, each frozen socket is registered,
edge-triggered (``EPOLLET``), in one epoll whose own descriptor the loop watches: a socket
costs nothing until something arrives, and then its callback runs once per arrival.

Edge-triggered matters: the frozen client never consumes its bytes, so a level-triggered
watch would fire forever once anything is waiting.
"""

from __future__ import annotations

import asyncio
import select
from collections.abc import Callable

_EVENTS = select.EPOLLIN | select.EPOLLRDHUP | select.EPOLLET
_watchers: dict[asyncio.AbstractEventLoop, FrozenSocketWatcher] = {}


class FrozenSocketWatcher:
    """Calls back when a watched socket gets data, a FIN or an error. Loop thread only."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._epoll = select.epoll()
        self._callbacks: dict[int, Callable[[], None]] = {}
        loop.add_reader(self._epoll.fileno(), self._dispatch)

    @classmethod
    def on(cls, loop: asyncio.AbstractEventLoop) -> FrozenSocketWatcher:
        """The watcher of ``loop``, created on first use."""
        watcher = _watchers.get(loop)
        if watcher is None:
            watcher = _watchers[loop] = cls(loop)
        return watcher

    @classmethod
    def forget(cls, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        """Stop watching ``fd`` on ``loop``, if it is watched there."""
        watcher = _watchers.get(loop)
        if watcher is not None:
            watcher.unwatch(fd)

    def watch(self, fd: int, on_activity: Callable[[], None]) -> None:
        """Call ``on_activity()`` whenever something arrives on ``fd`` (already there too)."""
        self._callbacks[fd] = on_activity
        self._epoll.register(fd, _EVENTS)

    def unwatch(self, fd: int) -> None:
        """Stop watching ``fd``; the watcher closes itself when it watches nothing."""
        if self._callbacks.pop(fd, None) is not None:
            try:
                self._epoll.unregister(fd)
            except OSError:
                pass
        if not self._callbacks:
            self.close()

    def close(self) -> None:
        """Release the epoll descriptor."""
        if _watchers.get(self._loop) is self:
            del _watchers[self._loop]
        if not self._epoll.closed:
            self._loop.remove_reader(self._epoll.fileno())
            self._epoll.close()

    def _dispatch(self) -> None:
        for fd, _mask in self._epoll.poll(0):
            callback = self._callbacks.get(fd)
            if callback is not None:
                callback()
