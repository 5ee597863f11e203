"""The session protocol (docs/protocol.md, section 7) from the client's side.

A :class:`SessionConversation` is one user's conversation with the agent, across as many
connections as the test makes: it opens a connection (optionally from a chosen source
address), authenticates, starts or resumes the session, chats, reads the context back,
and disconnects, timing each step with a monotonic clock. Every connection it made is kept
as a :class:`Leg` for the evidence table. Methods run on the library's event loop.

Tokens travel only inside the ``auth`` message and are registered as secrets of the
connection, so recorded previews mask them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from wsresilience.core.client.connection import ObservedConnection
from wsresilience.core.client.limits import DEFAULT_MAX_MESSAGE_SIZE
from wsresilience.core.conversations.connection import SessionConnection
from wsresilience.core.conversations.transcript import Context, ExpectedConversation, context_difference
from wsresilience.core.masking import Credential
from wsresilience.core.runtime.gcpause import collections_paused
from wsresilience.errors import ConnectionEnded, ProtocolFailure, ResilienceFailure, WaitTimeout


@dataclass
class Refusal:
    """A request the server refused: its error code, message, and close code if it closed."""

    code: str
    message: str
    close_code: int | None = None
    close_reason: str = ""
    replies: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Resumed:
    """How one reconnect-and-resume went: the time it took, or the server's refusal.

    ``elapsed_ms`` runs from opening the new connection to the resume's answer;
    ``disconnected_for`` is how long the conversation had been without a connection then.
    """

    elapsed_ms: float
    disconnected_for: float
    refusal: Refusal | None = None


@dataclass
class Cycle:
    """One disconnect, reconnect, resume and history check of :meth:`SessionConversation.cycle`.

    ``difference`` names the first way the server's context differs from the client's
    record (None: identical), ``reply_difference`` the first way the reply to the follow-up
    message differs from the prediction; ``refusal`` is set, and nothing else measured, if
    the resume was refused.
    """

    refusal: Refusal | None = None
    entries: int = 0
    restore_ms: float = 0.0
    retrieval_ms: float = 0.0
    difference: str | None = None
    reply_difference: str | None = None


@dataclass
class Said:
    """How a run of chat messages went: how many were sent, how many replies were as predicted.

    ``difference`` names the first reply that was not (the run stops there).
    """

    messages: int
    matched: int = 0
    difference: str | None = None


@dataclass
class Leg:
    """One connection of a conversation, for the evidence table."""

    number: int
    source: str
    local_address: str = ""
    outcome: str = ""
    handshake_ms: float | None = None
    restore_ms: float | None = None
    close_code: int | None = None


class SessionConversation:
    """One user's conversation with the agent, over successive connections."""

    def __init__(self, name: str, url: str, credential: Credential,
                 max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.name = name
        self.url = url
        #: TLS for a ``wss://`` url (``None`` for ``ws://``), used by every connection.
        self.ssl_context = ssl_context
        self.credential = credential
        #: The largest message (bytes) each of its connections accepts.
        self.max_message_size = max_message_size
        self.session: str | None = None
        self.expected = ExpectedConversation()
        self.conn: ObservedConnection | None = None
        self.legs: list[Leg] = []
        self.disconnected_at: float | None = None
        self.retrieval_ms: list[float] = []
        self.restore_ms: list[float] = []
        self.last_resume: dict[str, Any] = {}

    # -- connections -------------------------------------------------------------------------

    async def connect(
        self, timeout: float, source_address: str | None = None, credential: Credential | None = None
    ) -> ObservedConnection:
        """Open a new connection and authenticate on it; it becomes the current one."""
        cred = credential or self.credential
        conn = await self.open_authenticated(cred, timeout, source_address)
        self.conn = conn
        return conn

    async def open_authenticated(
        self, credential: Credential, timeout: float, source_address: str | None = None
    ) -> ObservedConnection:
        """A new authenticated connection (not made current); fails if auth is refused."""
        conn = await self.open_raw(timeout, source_address)
        try:
            reply = await self.request(conn, {"type": "auth", "token": credential.token}, timeout, credential)
        except BaseException:
            # No reply (or cancelled): nothing else holds this connection, so close it here.
            await conn.close()
            raise
        if reply.get("type") != "auth-ok":
            await self.drain_close(conn, timeout)
            self.legs[-1].outcome = f"auth refused: {reply.get('code', reply.get('type'))}"
            raise ProtocolFailure(
                f"Expected auth-ok for {credential} at {conn.target}; got {_describe(reply)}"
                f"{_close_text(conn)}."
            )
        return conn

    async def open_raw(self, timeout: float, source_address: str | None = None) -> ObservedConnection:
        """A new connection, not authenticated yet, recorded as a leg."""
        leg = Leg(len(self.legs) + 1, source_address or "default")
        self.legs.append(leg)
        conn = SessionConnection(f"{self.name}#{leg.number}", self.url)
        try:
            await conn.open(timeout, self.ssl_context, source_address=source_address,
                            max_size=self.max_message_size)
        except ResilienceFailure:
            leg.outcome = "open failed"
            raise
        assert conn.ws is not None
        leg.handshake_ms = conn.handshake_ms
        host, port = conn.ws.local_address[:2]
        leg.local_address = f"{host}:{port}"
        return conn

    async def disconnect(self, how: str = "close") -> None:
        """End the current connection: ``close`` (close handshake) or ``abort`` (TCP reset)."""
        conn = self.conn
        if conn is None:
            return
        if how == "abort":
            conn.abort()
        else:
            await conn.close()
        self.disconnected_at = time.monotonic()
        self.conn = None
        if self.legs:
            self.legs[-1].close_code = conn.close_code

    # -- the protocol ---------------------------------------------------------------------------

    async def request(
        self, conn: ObservedConnection, message: dict[str, Any], timeout: float,
        credential: Credential | None = None,
    ) -> dict[str, Any]:
        """Send ``message`` and return the next message from the server."""
        if credential is not None and credential.token not in conn.secrets:
            conn.secrets.append(credential.token)
        await conn.send(json.dumps(message, separators=(",", ":")))
        return await self.next_message(conn, timeout)

    async def next_message(self, conn: ObservedConnection, timeout: float) -> dict[str, Any]:
        """The next JSON message on ``conn``; :class:`ConnectionEnded` if the connection ends first."""
        return _json_object(await self.next_text(conn, timeout), conn)

    async def next_text(self, conn: ObservedConnection, timeout: float) -> str | bytes:
        """The next message on ``conn`` as it came, unparsed (see :meth:`next_message`)."""
        assert isinstance(conn, SessionConnection)
        getter = asyncio.ensure_future(conn.messages.get())
        closed = asyncio.ensure_future(conn.reader_done.wait())
        try:
            done, _ = await asyncio.wait({getter, closed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
        if getter in done:
            raw = getter.result()
        else:
            getter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await getter
            if not conn.messages.empty():
                raw = conn.messages.get_nowait()
            elif conn.reader_done.is_set():
                raise ConnectionEnded(f"connection closed{_close_text(conn)}")
            else:
                raise WaitTimeout("a reply from the server", timeout, conn.target)
        return raw

    async def drain_close(
        self, conn: ObservedConnection, timeout: float, at_most: int | None = None
    ) -> list[dict[str, Any]]:
        """Every message until the server closes ``conn``, ``at_most`` messages came, or ``timeout``."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while at_most is None or len(seen) < at_most:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return seen
            try:
                seen.append(await self.next_message(conn, remaining))
            except (ConnectionEnded, TimeoutError):
                return seen
        return seen

    async def start_session(self, timeout: float) -> dict[str, Any]:
        """Start a new session on the current connection; the expected context starts empty."""
        conn = self._current()
        reply = await self.request(conn, {"type": "session-start"}, timeout)
        if reply.get("type") != "session-started" or not isinstance(reply.get("session"), str):
            raise ProtocolFailure(f"Expected session-started at {conn.target}; got {_describe(reply)}.")
        self.session = reply["session"]
        self.expected = ExpectedConversation()
        self.legs[-1].outcome = "session started"
        return reply

    async def resume(self, timeout: float, conn: ObservedConnection | None = None) -> dict[str, Any] | Refusal:
        """Ask to resume the session on ``conn`` (default: the current connection)."""
        conn = conn or self._current()
        if self.session is None:
            raise ValueError(f"Conversation {self.name} has no session to resume; start one first.")
        reply = await self.request(conn, {"type": "session-resume", "session": self.session}, timeout)
        if reply.get("type") == "session-resumed":
            self.last_resume = reply
            return reply
        if reply.get("type") == "error":
            refusal = Refusal(str(reply.get("code")), str(reply.get("message", "")), replies=[reply])
            return refusal
        raise ProtocolFailure(f"Expected session-resumed or an error at {conn.target}; got {_describe(reply)}.")

    async def say(self, text: str, timeout: float) -> str | None:
        """Send one chat message, record the exchange, and compare the reply with the prediction.

        Returns None when the reply is the one docs/protocol.md 7.2 predicts (entries, agent
        text, state) for the held session, or one line naming the first difference.
        """
        conn = self._current()
        reply = await self.request(conn, {"type": "chat", "text": text}, timeout)
        if reply.get("type") != "reply" or not isinstance(reply.get("reply"), dict):
            raise ProtocolFailure(f"Expected a reply to {text!r} at {conn.target}; got {_describe(reply)}.")
        difference = self.expected.record_exchange(text, reply)
        if difference is None and reply.get("session") != self.session:
            difference = (f"message {len(self.expected.entries) // 2}: the reply names session "
                          f"{reply.get('session')!r}, not the held session {self.session!r}")
        return difference

    async def fetch_context(self, timeout: float) -> tuple[Context, str]:
        """The server's context and digest; the retrieval time is recorded.

        The reply is parsed with automatic garbage collection paused (see
        :mod:`~wsresilience.core.runtime.gcpause`): a long history is thousands of dicts
        that live only until they are read into the :class:`Context`.
        """
        conn = self._current()
        started = time.monotonic()
        await conn.send(json.dumps({"type": "history"}, separators=(",", ":")))
        raw = await self.next_text(conn, timeout)
        with collections_paused():
            reply = _json_object(raw, conn)
            if reply.get("type") != "history":
                raise ProtocolFailure(f"Expected the history at {conn.target}; got {_describe(reply)}.")
            context = Context.from_message(reply)
            digest = str(reply.get("digest", ""))
            del reply
        self.retrieval_ms.append((time.monotonic() - started) * 1000)
        return context, digest

    # -- whole steps, as the keywords take them ---------------------------------------------------

    async def open_session(self, timeout: float, source_address: str | None = None) -> dict[str, Any]:
        """Connect, authenticate and start a new session; returns the ``session-started`` reply."""
        await self.connect(timeout, source_address)
        return await self.start_session(timeout)

    async def say_all(self, messages: Sequence[str], timeout: float) -> Said:
        """Send each message in turn, waiting for its reply (``{conversation}`` becomes the name).

        Stops at the first reply that differs from the prediction.
        """
        said = Said(len(messages))
        for text in messages:
            said.difference = await self.say(text.replace("{conversation}", self.name), timeout)
            if said.difference is not None:
                break
            said.matched += 1
        return said

    async def reconnect(self, after: float, timeout: float, source_address: str | None = None) -> Resumed:
        """Wait until the disconnection has lasted ``after`` seconds, reconnect and resume.

        The leg records the outcome; a refusal is returned, not raised, for the caller to word.
        """
        if self.disconnected_at is not None:
            await asyncio.sleep(max(0.0, self.disconnected_at + after - time.monotonic()))
        started = time.monotonic()
        away = 0.0 if self.disconnected_at is None else started - self.disconnected_at
        await self.connect(timeout, source_address)
        outcome = await self.resume(timeout)
        elapsed = (time.monotonic() - started) * 1000
        if isinstance(outcome, Refusal):
            self.legs[-1].outcome = f"refused: {outcome.code}"
            return Resumed(elapsed, away, outcome)
        self.legs[-1].outcome = "resumed"
        self.legs[-1].restore_ms = elapsed
        return Resumed(elapsed, away)

    async def cycle(self, how: str, timeout: float, follow_up: str = "") -> Cycle:
        """Disconnect (``close`` or ``abort``), reconnect, resume and compare the whole context.

        When the context is identical, ``follow_up`` (if any) is said, so the context keeps
        growing from cycle to cycle. The reconnect-to-restored time is kept in
        :attr:`restore_ms`, the history retrieval time in :attr:`retrieval_ms`.
        """
        await self.disconnect(how)
        started = time.monotonic()
        await self.connect(timeout)
        outcome = await self.resume(timeout)
        if isinstance(outcome, Refusal):
            return Cycle(refusal=outcome)
        actual, digest = await self.fetch_context(timeout)
        self.restore_ms.append((time.monotonic() - started) * 1000)
        self.legs[-1].outcome = "resumed"
        self.legs[-1].restore_ms = self.restore_ms[-1]
        difference = context_difference(self.expected.context(), actual, digest)
        reply_difference = None
        if difference is None and follow_up:
            reply_difference = await self.say(follow_up, timeout)
        return Cycle(None, len(actual.messages), self.restore_ms[-1], self.retrieval_ms[-1], difference,
                     reply_difference)

    def _current(self) -> ObservedConnection:
        if self.conn is None or not self.conn.is_open:
            raise ResilienceFailure(f"Conversation {self.name} has no open connection; resume it first.")
        return self.conn

    async def close(self) -> None:
        """Close the current connection, if any."""
        if self.conn is not None:
            await self.conn.close()
            self.conn = None


def _json_object(raw: str | bytes, conn: ObservedConnection) -> dict[str, Any]:
    """``raw`` parsed as a JSON object; fails in one line naming ``conn``'s target."""
    try:
        message = json.loads(raw)
    except (TypeError, ValueError):
        raise ProtocolFailure(f"Expected a JSON message from {conn.target}; got {len(raw)} bytes that are not JSON.") from None
    if not isinstance(message, dict):
        raise ProtocolFailure(f"Expected a JSON object from {conn.target}; got {type(message).__name__}.")
    return message


def _describe(message: dict[str, Any]) -> str:
    kind = message.get("type")
    if kind == "error":
        return f"error {message.get('code')!r} ({message.get('message', '')})"
    return f"a {kind!r} message"


def _close_text(conn: ObservedConnection) -> str:
    if conn.ended_by_client:  # its own message size limit: not the server's doing
        return f", then {conn.termination}"
    if conn.close_code is None:
        return ""
    return f", then close {conn.close_code} {conn.close_reason}".rstrip()
