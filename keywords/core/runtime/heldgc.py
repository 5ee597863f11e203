"""Keeping CPython's garbage collector off thousands of held connections.

Why: CPython's cyclic collector runs a full (generation 2) collection when enough objects
have survived the younger ones, and a full collection visits *every* tracked object in the
process, holding the GIL all the while. A client holding 10,000 connections holds a few
million objects (each connection's websockets protocol, transport, futures, our recording);
measured on a 2-core machine, a full collection then paused the event loop for 0.3 to 2 s,
in the bare ``websockets`` client as in this library. During that pause no pong leaves, so
a server with a 1 s ping timeout terminates healthy connections: the test measures the
collector, not the server's heartbeats.

What: once ``freeze_at`` connections or more are held, the objects alive at that moment
(the connections, and everything the process had imported) are moved to the collector's
permanent generation with :func:`gc.freeze`, so later collections no longer visit them;
each later bulk open freezes again (an O(1) call). A full collection runs first, so the
garbage that opening left (handshake objects in reference cycles, about 3 KiB per connection
measured at 10,000) is freed rather than frozen for good: the first one visits the whole heap
(tens of milliseconds at 1,000 connections), each later one only what is new since the last
freeze (one batch of connections), because frozen objects are never visited. When the count
falls below ``freeze_at`` again, :func:`gc.unfreeze` hands them back to the collector.
Objects become garbage by reference counting as usual while frozen; only garbage in
reference *cycles* among frozen objects waits until the unfreeze.

``freeze_at = 0`` switches this off (the library's import argument ``gc_freeze_at``).
"""

from __future__ import annotations

import gc

#: Held connections from which their objects are frozen (see the module docstring).
DEFAULT_FREEZE_AT = 1000


class HeldObjectsGc:
    """Freezes the collector's view of held objects while at least ``freeze_at`` are held.

    Call :meth:`held` with the number of connections held after every bulk open and
    close, and :meth:`release` when the library goes out of scope. One per library
    context; the collector itself is process-wide, so the last word wins when several
    libraries hold connections in one process.
    """

    __slots__ = ("freeze_at", "frozen")

    def __init__(self, freeze_at: int = DEFAULT_FREEZE_AT) -> None:
        if freeze_at < 0:
            raise ValueError(f"gc_freeze_at must be 0 (off) or a number of connections; got {freeze_at}.")
        self.freeze_at = freeze_at
        #: Whether this policy has frozen objects that it has not handed back yet.
        self.frozen = False

    def held(self, count: int) -> None:
        """``count`` connections are held now: freeze what is alive, or hand it back."""
        if self.freeze_at and count >= self.freeze_at:
            gc.collect()  # cheap after the first freeze: frozen objects are not visited
            gc.freeze()
            self.frozen = True
        elif self.frozen:
            self.release()

    def release(self) -> None:
        """Hand every frozen object back to the collector (no collection is forced)."""
        if self.frozen:
            gc.unfreeze()
            self.frozen = False
