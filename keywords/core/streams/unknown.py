"""Asking a service to resume a stream it never issued (WS-RESILIENCE-002.6).

A healthy service refuses it as ``unknown-stream``; one that answers with data, or not at
all, hands out streams it should not. Only the stream id is made up: the resume carries the
epoch the service announced, learnt first from the smallest stream it will send when no
stream was started on the session yet.
"""

from __future__ import annotations

import asyncio

from wsresilience.core.runtime.loop import wait_until
from wsresilience.core.streams.adapter import Event, StreamRequest
from wsresilience.core.streams.session import StreamSession
from wsresilience.errors import WaitTimeout


async def ask_resume_of(session: StreamSession, stream_id: str, timeout: float) -> Event | None:
    """Resume ``stream_id`` (which the service never issued) on the session's open
    connection, with the epoch the service announced; returns its answer, or ``None`` when
    none came within ``timeout``.

    Only the stream id is made up: a resume without the epoch may be refused as
    ``epoch-changed`` by a strict but healthy server, which would hide whether it knows the
    stream. When no stream was started on this session yet, the epoch is learnt first from
    the smallest stream the service will send (see :func:`learn_epoch`).
    """
    conn = session.require_connection()
    epoch = session.epoch or await learn_epoch(session, timeout)
    future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
    session.probes[stream_id] = future
    try:
        await conn.send(session.adapter.resume_message(stream_id, 3, epoch))
        await session.answer(conn, future.done, "the answer to the resume of an unknown stream", timeout)
    except WaitTimeout:
        return None
    finally:
        session.probes.pop(stream_id, None)
    return future.result()


async def learn_epoch(session: StreamSession, timeout: float) -> str:
    """Ask for a one-byte stream, receive it to its end and forget it; returns the epoch the
    service announced with it (``""`` if it announces none)."""
    name = "(epoch probe)"
    stream = await session.start(name, StreamRequest("text", 1, 1), timeout)
    try:
        await wait_until(lambda: stream.ended_at is not None, session.changed, timeout)
    finally:
        del session.streams[name]
        session.by_id.pop(stream.stream_id, None)
    return session.epoch
