"""Thread-safe event capture.

Events are recorded on the event-loop thread as they happen (with a monotonic timestamp)
and read from the keyword's thread, which is the only thread whose log calls reach
log.html (``robot.api.logger`` drops calls made from other threads).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to a connection, at monotonic time ``t``."""

    t: float
    kind: str
    detail: str = ""


class EventLog:
    """An append-only list of events, safe to append from one thread and read from another."""

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._lock = threading.Lock()

    def record(self, kind: str, detail: str = "", t: float | None = None) -> Event:
        """Append an event stamped with ``time.monotonic()`` unless ``t`` is given."""
        event = Event(time.monotonic() if t is None else t, kind, detail)
        with self._lock:
            self._events.append(event)
        return event

    def snapshot(self) -> list[Event]:
        """A copy of the events so far, oldest first."""
        with self._lock:
            return list(self._events)

    def of_kind(self, kind: str) -> list[Event]:
        """The events of one kind, oldest first."""
        with self._lock:
            return [e for e in self._events if e.kind == kind]

    def count(self, kind: str) -> int:
        """How many events of one kind were recorded."""
        with self._lock:
            return sum(1 for e in self._events if e.kind == kind)

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)
