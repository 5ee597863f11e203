"""Sessions: a conversation with the agent that survives reconnects and server restarts.

After ``auth``, a client starts a session (``session-start``) or resumes one it owns
(``session-resume``), then talks (``chat``) and reads the whole context back
(``history``). Every session belongs to the user whose token started it; one connection at
a time holds it. The rules, in the order the server checks them on a resume:

1. unknown id: error ``unknown-session`` (the connection stays open);
2. another user's session: error ``session-forbidden``, close 4403, nothing revealed (seeded
   defect ``leak-session-in-refusal``: the error quotes the session's length and last message);
3. unused for longer than the TTL: error ``session-expired``, the context is deleted for
   good (the connection stays open, so the client can start a clean session);
4. held by another open connection: error ``session-busy``, close 4409 (the first holder
   keeps it: a resume never steals a live session).

Sessions are stored in SQLite under ``--data-dir`` (see :mod:`wsresilience.refserver.store`), so the
context survives a real restart. Full description: docs/protocol.md, section 7.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import shutil
import tempfile
import time
from typing import Any

from websockets.protocol import State

from ..client import Client
from ..config import ServerConfig
from ..conversation import respond
from ..defects import Defect
from ..host import ServerHost
from ..store import IN_MEMORY, HistorySnapshot, SessionRecord, SessionStore

CLOSE_SESSION_FORBIDDEN = 4403
CLOSE_SESSION_BUSY = 4409
#: How long the check-then-claim gap lasts under seeded defect ``concurrent-resume-race``.
RACE_WINDOW = 0.05
#: Longest chat message accepted, in characters.
MAX_TEXT = 4096
FEATURE = "session"


def database_path(config: ServerConfig) -> str:
    """Where the sessions live: ``<data-dir>/sessions.sqlite3``.

    Without ``--data-dir`` the server uses a fresh temporary directory of its own (so
    parallel servers never share a file) and deletes it when the process exits.
    """
    if config.has(Defect.NO_PERSISTENCE):
        return IN_MEMORY
    directory = config.data_dir
    if not directory:
        directory = tempfile.mkdtemp(prefix="refserver-data-")
        atexit.register(shutil.rmtree, directory, True)
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, "sessions.sqlite3")


def history_message(record: SessionRecord, snapshot: HistorySnapshot) -> str:
    """The ``history`` message for ``record``, as text.

    Byte for byte what ``json.dumps`` of the message (``type``, ``session``, ``messages``,
    ``state``, ``digest``, no spaces) writes, but with the entries already serialised by
    the snapshot: a long history is not serialised again for each request.
    """
    compact = (",", ":")
    head = json.dumps({"type": "history", "session": record.id}, separators=compact)[:-1]
    tail = json.dumps({"state": record.state.to_json(), "digest": snapshot.digest(record.state)},
                      separators=compact)[1:]
    return f'{head},"messages":{snapshot.messages_json},{tail}'


def install(server: ServerHost) -> None:
    """Register the session messages, the disconnect hook and the session metrics."""
    config = server.config
    store = SessionStore(database_path(config))
    ttl = config.session_ttl
    #: Which connection holds which session (in memory: after a restart nobody does).
    holders: dict[str, Client] = {}
    counts = {"resumed": 0, "refused": 0, "expired": 0}
    server.metrics.gauge("ws_sessions_held", "Sessions held by an open connection.",
                         lambda: float(len(holders)))
    server.metrics.counter("ws_session_resumes", "Sessions resumed.", lambda: float(counts["resumed"]))
    server.metrics.counter("ws_session_resume_refusals", "Resumes refused (forbidden or busy).",
                           lambda: float(counts["refused"]))
    server.metrics.counter("ws_sessions_expired", "Sessions found expired on resume.",
                           lambda: float(counts["expired"]))

    def context_fields(record: SessionRecord) -> dict[str, Any]:
        snapshot = store.snapshot(record.id)
        return {
            "session": record.id,
            "ttl": ttl,
            "history_len": snapshot.count,
            "state": record.state.to_json(),
            "digest": snapshot.digest(record.state),
        }

    def release(client: Client) -> None:
        """Let go of the session ``client`` holds, if any."""
        session_id = client.state.pop(FEATURE, None)
        if session_id is None:
            return
        if holders.get(session_id) is client:
            del holders[session_id]
        store.touch(session_id, time.time())
        if config.has(Defect.DROP_LAST_MESSAGE):
            store.drop_last_message(session_id)

    def claim(client: Client, session_id: str) -> None:
        if client.state.get(FEATURE) != session_id:
            release(client)
        holders[session_id] = client
        client.state[FEATURE] = session_id
        store.touch(session_id, time.time())

    def forbidden_message(record: SessionRecord) -> str:
        """What a refused intruder is told: nothing about the session, unless the server leaks it."""
        if not config.has(Defect.LEAK_SESSION_IN_REFUSAL):
            return "this session belongs to another user"
        history = store.history(record.id)
        last = history[-1].text if history else ""
        return f"this session belongs to another user ({len(history)} messages, last: {last[:40]!r}…)"

    async def authenticated(client: Client) -> bool:
        if client.user is None:
            await client.send_error("unauthenticated", "authenticate first: send an auth message")
            return False
        return True

    async def session_start(client: Client, message: dict[str, Any]) -> None:
        if not await authenticated(client):
            return
        assert client.user is not None
        record = store.create(client.user, time.time())
        claim(client, record.id)
        await client.send_json({"type": "session-started", **context_fields(record)})

    async def session_resume(client: Client, message: dict[str, Any]) -> None:
        if not await authenticated(client):
            return
        session_id = message.get("session")
        record = store.get(session_id) if isinstance(session_id, str) else None
        if record is None:
            await client.send_error("unknown-session", "no such session")
            return
        if record.owner != client.user and not config.has(Defect.IGNORE_SESSION_OWNER):
            counts["refused"] += 1
            await client.send_error("session-forbidden", forbidden_message(record))
            await client.ws.close(CLOSE_SESSION_FORBIDDEN, "session-forbidden")
            return
        holder = holders.get(record.id)
        held_elsewhere = holder is not None and holder is not client
        if not held_elsewhere and record.expired_at(time.time(), ttl):
            counts["expired"] += 1
            store.expire(record.id)
            await client.send_error(
                "session-expired",
                f"the session was unused for longer than its TTL of {ttl:g} s and is gone; "
                "start a new session",
            )
            return
        if config.has(Defect.CONCURRENT_RESUME_RACE):
            await asyncio.sleep(RACE_WINDOW)  # checks and claims in two steps: racy on purpose
        if held_elsewhere and holder is not None and holder.ws.state is State.OPEN:
            counts["refused"] += 1
            await client.send_error("session-busy", "another connection holds this session")
            await client.ws.close(CLOSE_SESSION_BUSY, "session-busy")
            return
        claim(client, record.id)
        counts["resumed"] += 1
        if config.has(Defect.LOSE_HISTORY):
            store.clear_history(record.id)
        await client.send_json({"type": "session-resumed", **context_fields(record)})

    async def chat(client: Client, message: dict[str, Any]) -> None:
        session_id = await held_session(client)
        if session_id is None:
            return
        text = message.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            await client.send_error("bad-request", f"chat needs a non-empty text of at most {MAX_TEXT} characters")
            return
        record = store.get(session_id)
        assert record is not None
        reply, state = respond(record.state, text, config.defects)
        said, answered = store.append_exchange(session_id, text, reply, state, time.time())
        await client.send_json({
            "type": "reply",
            "session": session_id,
            "message": said.to_json(),
            "reply": answered.to_json(),
            "state": state.to_json(),
        })

    async def history(client: Client, message: dict[str, Any]) -> None:
        session_id = await held_session(client)
        if session_id is None:
            return
        record = store.get(session_id)
        assert record is not None
        await client.send_raw(history_message(record, store.snapshot(session_id)))

    async def held_session(client: Client) -> str | None:
        if not await authenticated(client):
            return None
        session_id = client.state.get(FEATURE)
        if session_id is None:
            await client.send_error("no-session", "start or resume a session first")
        return session_id

    async def disconnected(client: Client) -> None:
        release(client)

    server.router.register("session-start", session_start)
    server.router.register("session-resume", session_resume)
    server.router.register("chat", chat)
    server.router.register("history", history)
    server.on_disconnected.append(disconnected)

