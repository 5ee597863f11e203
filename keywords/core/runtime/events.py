"""Thread-safe event capture, bounded for routine events.

Events are recorded on the event-loop thread as they happen (with a monotonic timestamp)
and read from the keyword's thread, which is the only thread whose log calls reach
log.html (``robot.api.logger`` drops calls made from other threads).

Routine events (the ping/pong traffic of a held connection: :data:`ROUTINE`) arrive every
ping interval for as long as the connection lives, so keeping each one would make a
connection held for an hour grow without bound. For those kinds the log keeps, exactly and
for ever, what the checks and charts read (:class:`KindStats`: the count, the first and
last event, the spacing between consecutive ones as count, min, mean and max), and, as
events, only the most recent :data:`ROUTINE_KEEP` of them in a ring. Every other event (state
changes, close frames, messages, behaviour switches) is kept in full: those are few and each
one matters to the timeline.
"""

from __future__ import annotations

import heapq
import threading
import time
from array import array
from collections.abc import Iterable
from typing import NamedTuple

#: Kinds recorded once per ping or pong: counted and summarised exactly, kept in a ring.
_ROUTINE_KINDS = ("ping received", "pong sent", "pong suppressed", "heartbeat ping", "heartbeat pong")
ROUTINE: frozenset[str] = frozenset(_ROUTINE_KINDS)
_KIND_CODE = {kind: code for code, kind in enumerate(_ROUTINE_KINDS)}
#: How many routine events (of all routine kinds together) a log keeps as events.
ROUTINE_KEEP = 64


class Event(NamedTuple):
    """Something that happened to a connection, at monotonic time ``t``.

    A named tuple: immutable and quick to create.
    """

    t: float
    kind: str
    detail: str = ""


class KindStats:
    """What a log knows exactly about one routine kind, however many events it dropped.

    ``gaps`` is the number of spacings between consecutive events of the kind (count - 1);
    ``gap_min``, ``gap_max`` and ``gap_sum`` are in seconds.
    """

    __slots__ = ("count", "first_t", "first_detail", "last_t", "last_detail",
                 "gaps", "gap_min", "gap_max", "gap_sum")

    def __init__(self, t: float, detail: str) -> None:
        self.count = 1
        self.first_t = self.last_t = t
        self.first_detail = self.last_detail = detail
        self.gaps = 0
        self.gap_min = self.gap_max = self.gap_sum = 0.0

    def copy(self) -> KindStats:
        """A copy that no later event changes."""
        twin = KindStats(self.first_t, self.first_detail)
        for name in self.__slots__:
            setattr(twin, name, getattr(self, name))
        return twin

    @property
    def gap_mean(self) -> float:
        """The mean spacing in seconds (0.0 with fewer than two events)."""
        return self.gap_sum / self.gaps if self.gaps else 0.0


class EventLog:
    """Events in order, safe to append from one thread and read from another.

    ``count``, ``first``, ``last`` and ``stats`` are exact for every kind; ``snapshot`` and
    ``of_kind`` return the events still kept: all of them, except routine ones older than
    the newest ``keep`` (see the module docstring).

    Routine events are stored as three parallel rings, not as event objects: times in an
    ``array('d')``, kinds as one-byte codes in an ``array('B')``, details in a list (mostly
    one shared string). Recording one then allocates nothing the cyclic garbage collector
    tracks, so thousands of connections recording two events per ping set off no
    collections, and a kept event costs 17 bytes rather than about 100;
    :class:`Event` objects are built when read.
    """

    __slots__ = ("_events", "_times", "_kinds", "_details", "_next", "_stats", "_lock", "keep")

    def __init__(self, keep: int = ROUTINE_KEEP) -> None:
        self._events: list[Event] = []
        self._times = array("d")
        self._kinds = array("B")
        self._details: list[str] = []
        self._next = 0
        self._stats: dict[str, KindStats] | None = None
        self._lock = threading.Lock()
        #: How many routine events are kept as events (the newest).
        self.keep = max(1, keep)

    def record(self, kind: str, detail: str = "", t: float | None = None) -> Event:
        """Append an event stamped with ``time.monotonic()`` unless ``t`` is given."""
        if t is None:
            t = _monotonic()
        if kind not in ROUTINE:
            event = Event(t, kind, detail)
            with self._lock:
                self._events.append(event)
            return event
        with self._lock:  # the routine path runs once per ping and pong: kept inline
            stats = self._stats
            if stats is None:
                stats = self._stats = {}
            known = stats.get(kind)
            if known is None:
                stats[kind] = KindStats(t, detail)
            else:
                gap = t - known.last_t
                if known.gaps == 0:
                    known.gap_min = known.gap_max = gap
                elif gap < known.gap_min:
                    known.gap_min = gap
                elif gap > known.gap_max:
                    known.gap_max = gap
                known.gaps += 1
                known.gap_sum += gap
                known.count += 1
                known.last_t, known.last_detail = t, detail
            times = self._times
            if len(times) < self.keep:
                times.append(t)
                self._kinds.append(_KIND_CODE[kind])
                self._details.append(detail)
            else:
                i = self._next
                times[i], self._kinds[i], self._details[i] = t, _KIND_CODE[kind], detail
                self._next = (i + 1) % self.keep
        return Event(t, kind, detail)

    def _routine(self) -> list[Event]:
        """The kept routine events, oldest first (caller holds the lock)."""
        i = self._next
        order = list(range(i, len(self._times))) + list(range(i))
        return [Event(self._times[j], _ROUTINE_KINDS[self._kinds[j]], self._details[j]) for j in order]

    def snapshot(self) -> list[Event]:
        """A copy of the events kept, oldest first."""
        with self._lock:
            if not self._times:
                return list(self._events)
            return list(heapq.merge(self._events, self._routine(), key=_time))

    def of_kind(self, kind: str) -> list[Event]:
        """The kept events of one kind, oldest first."""
        with self._lock:
            source: Iterable[Event] = self._routine() if kind in ROUTINE else self._events
            return [e for e in source if e.kind == kind]

    def count(self, kind: str) -> int:
        """How many events of one kind were recorded (kept or not)."""
        with self._lock:
            if kind in ROUTINE:
                known = self._stats.get(kind) if self._stats else None
                return known.count if known else 0
            return sum(1 for e in self._events if e.kind == kind)

    def stats(self, kind: str) -> KindStats | None:
        """A copy of the exact summary of a routine kind (``None``: none recorded, or not
        routine)."""
        with self._lock:
            known = self._stats.get(kind) if self._stats else None
            return known.copy() if known is not None else None

    def first(self, kind: str) -> Event | None:
        """The first event of one kind ever recorded, or ``None``."""
        with self._lock:
            if kind in ROUTINE:
                known = self._stats.get(kind) if self._stats else None
                return Event(known.first_t, kind, known.first_detail) if known else None
            return next((e for e in self._events if e.kind == kind), None)

    def last(self, kind: str) -> Event | None:
        """The latest event of one kind, or ``None``."""
        with self._lock:
            if kind in ROUTINE:
                known = self._stats.get(kind) if self._stats else None
                return Event(known.last_t, kind, known.last_detail) if known else None
            return next((e for e in reversed(self._events) if e.kind == kind), None)

    @property
    def dropped(self) -> int:
        """How many routine events are no longer kept as events (still counted)."""
        with self._lock:
            total = sum(s.count for s in self._stats.values()) if self._stats else 0
            return total - len(self._times)

    def __len__(self) -> int:
        """How many events are kept (what :meth:`snapshot` returns)."""
        with self._lock:
            return len(self._events) + len(self._times)


_monotonic = time.monotonic


def _time(event: Event) -> float:
    return event.t
