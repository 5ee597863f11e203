"""Resuming by reconnecting: a connection-level resume (Socket.IO connection state recovery).

Some frameworks resume a whole connection, not a stream at a time: the client reconnects
with the session's private id and the position of the last event it processed in its
handshake, and the service answers whether it restored the session (Socket.IO:
``recovered``, the same ``pid``) and replays every event emitted meanwhile, before its
answer. There is no resume message per stream and no refusal: a session the service cannot
restore is a new, empty one, and what was emitted during the gap is lost.

:func:`resume_connection` is :meth:`StreamSession.resume` for such adapters
(``resumes_connection``). It records each unfinished stream's recovery as the per-stream
resume does, so the same checks judge it (each resume starts right after the last seq,
every event once and in order, the declared SHA-256), and it fails at once, naming the lost
seqs, when the service did not recover the session: ``Stream 'answer' not recovered: 12
events lost (seq 9..20); …``.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from wsresilience.core.streams.tracked import Recovery, TrackedStream
from wsresilience.errors import ResilienceFailure

if TYPE_CHECKING:
    from wsresilience.core.streams.session import StreamSession


class NotRecovered(ResilienceFailure):
    """The service answered a reconnect with a new session: the gap's events are lost."""


async def resume_connection(session: StreamSession, timeout: float) -> None:
    """Reconnect (with retries; the handshake carries the resume) and judge the answer.

    Each unfinished stream's position is taken before connecting: the service replays the
    missed events before it finishes the handshake, so they may be in before the reconnect
    returns. Fails with :class:`NotRecovered` when the service did not restore the session.
    ``timeout`` bounds nothing more than the connect's own: the handshake *is* the answer.
    """
    waiting = [s for s in session.streams.values() if s.ended_at is None]
    for stream in waiting:
        if not stream.recoveries or stream.recoveries[-1].resume_sent_at is not None:
            # Dropped without a cut of ours: a recovery of its own (see StreamSession.resume).
            stream.recoveries.append(Recovery(time.monotonic(), stream.assembly.last_contiguous, "lost"))
        # The service resumes after the last event processed, not after the last contiguous seq.
        stream.recoveries[-1].last_seq = max(stream.assembly.chunks, default=0)
        stream.refused = None
    log = await session.connect()
    conn = session.require_connection()
    answer = conn.handshake
    ready = conn.ready_at if conn.ready_at is not None else time.monotonic()
    recovered = None if answer is None else answer.recovered
    for stream in waiting:
        recovery = stream.recoveries[-1]
        recovery.connected_at = recovery.resume_sent_at = ready
        recovery.attempts, recovery.recovered = len(log.attempts), bool(recovered)
    if recovered:
        return
    lost = [(stream, missing(stream)) for stream in waiting]
    lost = [(stream, seqs) for stream, seqs in lost if seqs]
    detail = answer.detail if answer is not None else "the handshake gave no answer"
    if not lost:
        return  # nothing was missed (every stream had all its chunks): nothing to recover
    stream, seqs = lost[0]
    more = f"; {len(lost) - 1} more stream(s) lost events too" if len(lost) > 1 else ""
    events = "event" if len(seqs) == 1 else "events"
    raise NotRecovered(f"Stream {stream.name!r} not recovered: {len(seqs)} {events} lost (seq "
                       f"{seqs[0]}..{seqs[-1]}){more}; {detail} ({session.masked_url}).")


def missing(stream: TrackedStream) -> list[int]:
    """The seqs of ``stream`` not received yet, up to the count it declared at its end or,
    before that, the count its request asked for."""
    request = stream.request
    end = stream.assembly.end
    total = end.chunks if end is not None else math.ceil(request.size / max(1, request.chunk_size))
    return [seq for seq in range(1, total + 1) if seq not in stream.assembly.chunks]
