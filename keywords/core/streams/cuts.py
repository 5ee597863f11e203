"""Receiving streams while the connection is cut again and again, and saying how far they got.

:func:`receive_with_cuts` drives a :class:`~wsresilience.core.streams.session.StreamSession`:
it cuts the connection every so many chunks (armed on the leading stream, so the cut lands
on the chunk however fast the stream runs) or every so many seconds, resumes each time, and
returns once every stream has ended. Whether each resume started in the right place, and
whether the streams are whole, is judged afterwards from what the session recorded.
"""

from __future__ import annotations

import asyncio

from wsresilience.core.runtime.loop import wait_until
from wsresilience.core.streams.session import StreamSession
from wsresilience.core.streams.tracked import TrackedStream
from wsresilience.errors import ResilienceFailure


async def receive_with_cuts(session: StreamSession, names: list[str], every_chunks: int | None,
                            every_seconds: float | None, max_cuts: int, timeout: float) -> int:
    """Receive the streams of ``session``, cutting every ``every_chunks`` or ``every_seconds``
    (at most ``max_cuts`` times) and resuming each time, until they end; returns how many
    cuts were made."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    streams = [session.streams[n] for n in names]
    cuts = 0

    def done() -> bool:
        return all(s.ended_at is not None for s in streams)

    def cut_or_done() -> bool:
        return done() or session.connection is None or session.connection.cut

    while not done():
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise ResilienceFailure(progress(session, "did not complete", streams, timeout))
        if cuts < max_cuts and every_chunks:
            lead = next(s for s in streams if s.ended_at is None)
            if lead.cut_after is None:
                lead.cut_after = lead.assembly.received + every_chunks
            await wait_until(cut_or_done, session.changed, remaining)
        elif cuts < max_cuts and every_seconds:
            await wait_until(done, session.changed, min(every_seconds, remaining))
            if not done():
                session.cut("every interval")
        else:
            await wait_until(done, session.changed, remaining)
            continue
        if done():
            break
        cuts += 1
        lead = next(s for s in streams if s.ended_at is None)
        # Arm the next cut before resuming: a fast stream may finish while we look away.
        lead.cut_after = (lead.assembly.received + every_chunks
                          if every_chunks and cuts < max_cuts else None)
        await session.resume(max(0.1, deadline - loop.time()))
    return cuts


def progress(session: StreamSession, what: str, streams: list[TrackedStream], timeout: float) -> str:
    """One line saying how far each stream got, for a failure message."""
    parts = [f"{s.name}: {s.assembly.received} chunks, last contiguous seq "
             f"{s.assembly.last_contiguous}, ended: {'yes' if s.ended_at else 'no'}"
             for s in streams]
    conn = session.connection
    if conn is not None and conn.ended_by_client:  # say so: it was not the service's doing
        parts.append(f"the connection ended: {conn.termination}")
    return (f"Streams {what} within {timeout:.3f} s at {session.masked_url} "
            f"({'; '.join(parts)}).")
