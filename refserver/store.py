"""Sessions on disk: one SQLite database holds every session, its history and agent state.

Why SQLite: the context must survive a real restart of the server process, and the
standard library's ``sqlite3`` gives durable, transactional writes with nothing to
install. Each exchange (user message, agent reply, new agent state) is one transaction,
committed before the reply goes out, so whatever the client saw acknowledged is on disk
even if the process is killed the next instant. The journal runs in WAL mode.

Times are wall-clock seconds (``time.time()``), because they must mean the same thing to
the next server process.

Reading a long history back is the hot path of a reconnect (every resume reports the
history's length and digest, every ``history`` request sends it whole), so the store keeps
the histories it was last asked for in memory as :class:`HistorySnapshot`: each entry
already serialised, the digest computed once per state. The database stays the truth: a
snapshot is built from it, extended by the same method that commits an exchange (after the
commit), and dropped by every other write to the session's messages. The store is the only
writer of its database (one server process per data directory), so a snapshot never
disagrees with the disk; a restarted server starts with none and reads the disk again.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections import OrderedDict
from dataclasses import dataclass

from .conversation import AGENT, USER, AgentState, Message, canonical_entry, digest_of, wire_entry

#: A database that lives only as long as the process (seeded defect ``no-persistence``).
IN_MEMORY = ":memory:"

OPEN, EXPIRED = "open", "expired"

#: How many sessions' histories the store keeps in memory (the least recently read go first).
SNAPSHOTS_KEPT = 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    created REAL NOT NULL,
    last_seen REAL NOT NULL,
    status TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    session TEXT NOT NULL,
    id INTEGER NOT NULL,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (session, id)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class SessionRecord:
    """A session as stored: who owns it, when it was last used, the agent's state."""

    id: str
    owner: str
    created: float
    last_seen: float
    status: str
    state: AgentState

    def expired_at(self, now: float, ttl: float) -> bool:
        """Whether the session has expired by ``now`` (unused for longer than ``ttl``)."""
        return self.status == EXPIRED or now - self.last_seen > ttl


class HistorySnapshot:
    """One session's history in memory, in the forms the server sends and hashes it.

    ``messages_json`` is the history's JSON array exactly as ``json.dumps`` of the entries
    writes it; :meth:`digest` is the protocol's context digest for a state. Both are
    assembled from per-entry pieces serialised once, when the entry was first seen.
    """

    __slots__ = ("messages", "_wire", "_canonical", "_messages_json", "_digest")

    def __init__(self, messages: list[Message]) -> None:
        self.messages: list[Message] = []
        self._wire: list[str] = []
        self._canonical: list[str] = []
        self._messages_json: str | None = None
        self._digest: tuple[AgentState, str] | None = None
        self.append(*messages)

    def append(self, *messages: Message) -> None:
        """Add entries at the end (an exchange the store has just committed)."""
        for message in messages:
            self.messages.append(message)
            self._wire.append(wire_entry(message))
            self._canonical.append(canonical_entry(message))
        self._messages_json = None
        self._digest = None

    @property
    def count(self) -> int:
        """How many entries the history holds."""
        return len(self.messages)

    @property
    def messages_json(self) -> str:
        """The entries as the JSON array a ``history`` message carries (no spaces)."""
        if self._messages_json is None:
            self._messages_json = "[" + ",".join(self._wire) + "]"
        return self._messages_json

    def digest(self, state: AgentState) -> str:
        """The context digest of this history with ``state`` (kept for the last state asked)."""
        if self._digest is None or self._digest[0] != state:
            self._digest = (state, digest_of(",".join(self._canonical), state))
        return self._digest[1]


class SessionStore:
    """Sessions, histories and agent states in one SQLite database at ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if path != IN_MEMORY:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._snapshots: OrderedDict[str, HistorySnapshot] = OrderedDict()

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    # -- sessions --------------------------------------------------------------------------

    def create(self, owner: str, now: float) -> SessionRecord:
        """A new, empty session owned by ``owner``, with an unguessable id."""
        record = SessionRecord("s-" + secrets.token_hex(16), owner, now, now, OPEN, AgentState())
        self._db.execute(
            "INSERT INTO sessions (id, owner, created, last_seen, status, state) VALUES (?,?,?,?,?,?)",
            (record.id, owner, now, now, OPEN, json.dumps(record.state.to_json())),
        )
        return record

    def get(self, session_id: str) -> SessionRecord | None:
        """The session, or None if there is no such session."""
        row = self._db.execute(
            "SELECT id, owner, created, last_seen, status, state FROM sessions WHERE id = ?",
            (session_id,),
        ).fetchone()
        if row is None:
            return None
        return SessionRecord(row[0], row[1], row[2], row[3], row[4], AgentState.from_json(json.loads(row[5])))

    def touch(self, session_id: str, now: float) -> None:
        """Mark the session used at ``now`` (its TTL counts from its last use)."""
        self._db.execute("UPDATE sessions SET last_seen = ? WHERE id = ?", (now, session_id))

    def expire(self, session_id: str) -> None:
        """Forget the session's context for good; the id stays known as expired."""
        self._snapshots.pop(session_id, None)
        with self._transaction():
            self._db.execute("DELETE FROM messages WHERE session = ?", (session_id,))
            self._db.execute(
                "UPDATE sessions SET status = ?, state = ? WHERE id = ?",
                (EXPIRED, json.dumps(AgentState().to_json()), session_id),
            )

    # -- history ---------------------------------------------------------------------------

    def history(self, session_id: str) -> list[Message]:
        """The session's messages in order."""
        rows = self._db.execute(
            "SELECT id, role, text FROM messages WHERE session = ? ORDER BY id", (session_id,)
        ).fetchall()
        return [Message(*row) for row in rows]

    def snapshot(self, session_id: str) -> HistorySnapshot:
        """The session's history in memory (read from the database the first time)."""
        snapshot = self._snapshots.get(session_id)
        if snapshot is None:
            snapshot = self._snapshots[session_id] = HistorySnapshot(self.history(session_id))
            if len(self._snapshots) > SNAPSHOTS_KEPT:
                self._snapshots.popitem(last=False)
        else:
            self._snapshots.move_to_end(session_id)
        return snapshot

    def append_exchange(
        self, session_id: str, said: str, reply: str, state: AgentState, now: float
    ) -> tuple[Message, Message]:
        """Store a user message, the agent's reply and the new state in one transaction."""
        with self._transaction():
            (last,) = self._db.execute(
                "SELECT COALESCE(MAX(id), 0) FROM messages WHERE session = ?", (session_id,)
            ).fetchone()
            user = Message(last + 1, USER, said)
            agent = Message(last + 2, AGENT, reply)
            self._db.executemany(
                "INSERT INTO messages (session, id, role, text) VALUES (?,?,?,?)",
                [(session_id, m.id, m.role, m.text) for m in (user, agent)],
            )
            self._db.execute(
                "UPDATE sessions SET state = ?, last_seen = ? WHERE id = ?",
                (json.dumps(state.to_json()), now, session_id),
            )
        snapshot = self._snapshots.get(session_id)
        if snapshot is not None:  # committed: the snapshot follows the disk
            snapshot.append(user, agent)
        return user, agent

    def drop_last_message(self, session_id: str) -> None:
        """Delete the newest message (seeded defect ``drop-last-message``)."""
        self._snapshots.pop(session_id, None)
        self._db.execute(
            "DELETE FROM messages WHERE session = ? AND id = "
            "(SELECT MAX(id) FROM messages WHERE session = ?)",
            (session_id, session_id),
        )

    def clear_history(self, session_id: str) -> None:
        """Delete every message (seeded defect ``lose-history``)."""
        self._snapshots.pop(session_id, None)
        self._db.execute("DELETE FROM messages WHERE session = ?", (session_id,))

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN … COMMIT, or ROLLBACK on error (the connection runs in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
