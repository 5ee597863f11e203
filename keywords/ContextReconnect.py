"""Conversations that must survive reconnects and restarts, with their security cases."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from assertionengine import AssertionOperator
from robot.api import SkipExecution, logger
from robot.api.deco import keyword, library

from keywords import __version__
from keywords.core.evidence.judge import check
from keywords.core.conversations.transcript import Context, first_difference, session_data_in
from keywords.core.masking import Credential, known_secrets
from keywords.core.evidence.figures import Figure, figure_table, html_table
from keywords.core.runtime.library import LoopLibrary
from keywords.core.runtime.loop import gather_settled
from keywords.core.evidence.connections import latency_table
from keywords.core.conversations.session import Refusal, SessionConversation
from keywords.errors import ConnectionEnded
from keywords.core.stats import LatencyStats
from keywords.core.masking import mask_url
from keywords.core.runtime.timeouts import TimeLike, seconds

Conversations = str | list[str] | tuple[str, ...]

#: What a JWT looks like in text: a base64url JSON header, a dot, more.
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")


class _TokenWatch:
    """Library listener: looks at every message logged while the library is in scope."""

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self) -> None:
        self.findings: list[str] = []
        self.seen = 0

    def log_message(self, message: Any) -> None:
        text = str(getattr(message, "message", ""))
        self.seen += 1
        for token in known_secrets():
            if token and token in text:
                self.findings.append(f"a test token in a {message.level} message")
                return
        if JWT_PATTERN.search(text):
            self.findings.append(f"a JWT-shaped string in a {message.level} message")


@library(scope="SUITE", version=__version__, doc_format="ROBOT")
class ContextReconnect(LoopLibrary):
    """Tests that a conversation's context survives reconnects, address changes and restarts.

    A *conversation* is one user's session with the server's agent: the messages
    exchanged (numbered, in order) and the agent's state (the facts it remembers and the
    step its workflow has reached). The library keeps its own record of everything it
    said and heard, so after a reconnect it can compare the server's copy with what really
    happened and name the first difference. The protocol is the reference server's
    session protocol (docs/protocol.md, section 7).

    = Conversations =

    `Start Conversation` opens a connection, authenticates with a credential and starts a
    session; it returns the conversation's name. Keywords taking ``conversations``
    accept one name or a list of names (they then act on all at once, concurrently).

    | ${alice} =    Create Test User    alice
    | ${chat} =    Start Conversation    ${URL}    ${alice}
    | Hold Conversation    ${chat}    Hello    remember my name is Alice
    | Disconnect From Conversation    ${chat}
    | Resume Conversation    ${chat}    after=1 s    source_address=127.0.0.2
    | Conversation Context Should Be Restored    ${chat}

    = Credentials =

    Tokens never reach the log: credentials are `Credential` objects that print as
    ``<user alice-3f2a: valid token ***>``. Valid and expired ones come from
    ``ReferenceServer`` (it knows the signing secret); `Create Malformed Credential` and
    `Create Forged Credential` make ones no server should accept. `Tokens Should Not Appear
    In The Log` checks every message logged so far.

    = Security cases =

    `Authentication Should Be Rejected` sends a bad token followed at once by a resume and
    a history request, and fails if any reply carries session data. `Resume Should Be
    Refused` tries to resume a session as someone else, or after its TTL.

    = Evidence =

    Every keyword that judges a figure logs it beside its threshold. `Log Conversation
    Report` shows each connection a conversation made (source address, outcome, timings).

    = Timeouts =

    Every wait has a timeout: the library default (``timeout`` at import, 10 s) unless the
    keyword takes its own. A wait that runs out fails in one line naming what it waited
    for and where.
    """

    def __init__(self, timeout: TimeLike = timedelta(seconds=10)) -> None:
        """``timeout`` is the default for every wait."""
        super().__init__(timeout)
        self._conversations: dict[str, SessionConversation] = {}
        self._watch = _TokenWatch()
        self.ROBOT_LIBRARY_LISTENER = [self.ROBOT_LIBRARY_LISTENER, self._watch]

    # -- bookkeeping ---------------------------------------------------------------------------

    def _cleanup(self) -> None:
        if self._loop is not None and self._conversations:
            self._close(list(self._conversations.values()))
        self._conversations.clear()
        super()._cleanup()

    def _close(self, convs: list[SessionConversation]) -> None:
        async def close_all() -> None:
            await gather_settled(*(c.close() for c in convs))

        self._run(close_all(), "conversations to close", timeout=10)

    def _get(self, name: str) -> SessionConversation:
        try:
            return self._conversations[name]
        except KeyError:
            known = ", ".join(self._conversations) or "none"
            raise ValueError(f"No conversation named {name!r}; known: {known}.") from None

    def _many(self, conversations: Conversations) -> list[SessionConversation]:
        if conversations == "ALL":
            return list(self._conversations.values())
        names = [conversations] if isinstance(conversations, str) else list(conversations)
        return [self._get(n) for n in names]

    def _limit(self, timeout: timedelta | None) -> float:
        return seconds(timeout, self._timeout)

    @keyword
    def set_context_timeout(self, timeout: timedelta) -> str:
        """Sets the library's default wait timeout and returns the previous one."""
        return self._set_timeout(timeout)

    # -- credentials -----------------------------------------------------------------------------

    @keyword
    def create_malformed_credential(self, user: str = "mallory") -> Credential:
        """Returns a credential whose token is not a JWT at all.

        | ${bad} =    Create Malformed Credential
        """
        return Credential(user, "not-a-jwt-" + secrets.token_urlsafe(12), "malformed")

    @keyword
    def create_forged_credential(self, credential: Credential, how: str = "bad-signature") -> Credential:
        """Returns a forged copy of ``credential`` that no server should accept.

        ``how`` is ``bad-signature`` (the same claims signed with another key) or
        ``tampered`` (the claims changed to another user, the signature kept).

        | ${forged} =    Create Forged Credential    ${alice}    tampered
        """
        header, payload, signature = credential.token.split(".")
        if how == "bad-signature":
            forged = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
            return Credential(credential.user, f"{header}.{payload}.{forged}", "bad-signature")
        if how == "tampered":
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            claims["sub"] = f"{claims.get('sub', 'user')}-admin"
            body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
            return Credential(str(claims["sub"]), f"{header}.{body}.{signature}", "tampered")
        raise ValueError(f"Unknown forgery {how!r}; expected bad-signature or tampered.")

    @keyword
    def tokens_should_not_appear_in_the_log(self, criterion: str = "") -> None:
        """Fails if any message logged so far in this suite contains a test token.

        Looks at every message Robot logged while this library was in scope (assignments,
        keyword messages, failures) for every token this process created, and for any
        JWT-shaped string. The files themselves are checked by the project's tests.
        """
        findings = list(self._watch.findings)
        figure = Figure("log messages containing a token", len(findings), "messages", 0, "==", criterion,
                        note=f"{self._watch.seen} messages inspected")
        logger.info(figure_table([figure], "Tokens in the log"), html=True)
        if findings:
            raise AssertionError(f"Expected no token in the log; found {len(findings)}: {findings[0]}.")

    # -- conversations -------------------------------------------------------------------------

    @keyword
    def target_should_speak_the_session_protocol(self, url: str, timeout: timedelta | None = None) -> None:
        """Skips the test unless ``url`` speaks the session protocol (docs/protocol.md §7).

        Sends ``session-start`` unauthenticated: a server with the protocol answers error
        ``unauthenticated``; anything else means the checks cannot run here, and the test
        ends SKIP with the reason (never PASS).
        """
        limit = self._limit(timeout)
        probe = SessionConversation("protocol-probe", url, Credential("probe", "", "none"))

        async def ask() -> dict[str, Any] | str:
            conn = await probe.open_raw(limit)
            try:
                return await probe.request(conn, {"type": "session-start"}, limit)
            except (ConnectionEnded, TimeoutError) as exc:
                return str(exc)
            finally:
                await conn.close()

        answer = self._run(ask(), "an answer to session-start", limit + 2, url)
        if isinstance(answer, dict) and answer.get("type") == "error" and answer.get("code") == "unauthenticated":
            return
        seen = answer if isinstance(answer, str) else f"a {answer.get('type')!r} message"
        raise SkipExecution(
            f"The target {mask_url(url)} does not speak the reference session protocol "
            f"(docs/protocol.md section 7): session-start got {seen}, not error 'unauthenticated'."
        )

    @keyword
    def start_conversation(
        self,
        url: str,
        credential: Credential,
        name: str | None = None,
        source_address: str | None = None,
        timeout: timedelta | None = None,
    ) -> str:
        """Connects, authenticates with ``credential``, starts a session; returns the name.

        ``name`` defaults to the user's name. ``source_address`` binds the client to a
        local address (e.g. ``127.0.0.2``).

        | ${chat} =    Start Conversation    ${URL}    ${alice}
        """
        if not isinstance(credential, Credential):
            raise TypeError(f"Expected a credential from Create Test User, got {type(credential).__name__}.")
        conv_name = name or credential.user
        if conv_name in self._conversations:
            raise ValueError(f"A conversation named {conv_name!r} already exists.")
        conv = SessionConversation(conv_name, url, credential)
        limit = self._limit(timeout)

        async def start() -> dict[str, Any]:
            await conv.connect(limit, source_address)
            return await conv.start_session(limit)

        self._conversations[conv_name] = conv
        reply = self._run(start(), f"a new session for {credential}", limit * 3, url)
        logger.info(f"{conv_name}: session {reply['session']} started for {credential} (TTL {reply.get('ttl')} s).")
        return conv_name

    @keyword
    def start_new_session(self, conversation: str, timeout: timedelta | None = None) -> str:
        """Starts a new session on the conversation's open connection; returns its id.

        Used after a resume was refused as expired: the connection is still authenticated,
        and the new session must start clean (see `Conversation Should Start Clean`).
        """
        conv = self._get(conversation)
        limit = self._limit(timeout)
        reply = self._run(conv.start_session(limit), f"a new session on {conversation}", limit, conv.url)
        logger.info(f"{conversation}: new session {reply['session']} started.")
        return str(reply["session"])

    @keyword
    def get_conversation_session(self, conversation: str) -> str:
        """Returns the id of the conversation's session (ids are not secrets: ownership is checked)."""
        session = self._get(conversation).session
        if session is None:
            raise AssertionError(f"Conversation {conversation} has no session.")
        return session

    @keyword
    def hold_conversation(self, conversation: Conversations, *messages: str, timeout: timedelta | None = None) -> None:
        """Sends ``messages`` one by one, waiting for each reply, and records the exchange.

        With several conversations, each sends the same messages at the same time;
        ``{conversation}`` in a message is replaced by the conversation's name, so every
        conversation's context is its own.

        | Hold Conversation    ${chat}    Hello    remember the deadline is Friday
        """
        convs = self._many(conversation)
        limit = self._limit(timeout)

        async def talk(conv: SessionConversation) -> None:
            for text in messages:
                await conv.say(text.replace("{conversation}", conv.name), limit)

        results = self._run(gather_settled(*(talk(c) for c in convs)), "replies to the conversation",
                            limit * max(1, len(messages)) + 2)
        _raise_first(results)
        for conv in convs:
            exp = conv.expected.context()
            logger.info(f"{conv.name}: {len(messages)} exchanges; the context now holds {len(exp.messages)} "
                        f"entries, {len(exp.memory)} remembered facts, workflow step {exp.step}.")

    @keyword
    def disconnect_from_conversation(self, conversation: Conversations, how: str = "close") -> None:
        """Ends the conversation's connection: ``close`` (close handshake) or ``abort`` (TCP reset).

        The time of the disconnect is kept, so `Resume Conversation` can wait for a
        disconnection of a given length.
        """
        if how not in ("close", "abort"):
            raise ValueError(f"Unknown way to disconnect {how!r}; expected close or abort.")
        convs = self._many(conversation)
        results = self._run(gather_settled(*(c.disconnect(how) for c in convs)), "disconnects", 10)
        _raise_first(results)
        logger.info(f"Disconnected ({how}): {', '.join(c.name for c in convs)}.")

    @keyword
    def resume_conversation(
        self,
        conversation: Conversations,
        after: timedelta = timedelta(0),
        source_address: str | None = None,
        timeout: timedelta | None = None,
    ) -> float:
        """Reconnects, authenticates and resumes the session; returns the reconnect time in ms.

        ``after`` makes the disconnection last that long (counted from `Disconnect From
        Conversation`) before reconnecting. ``source_address`` binds the new connection to
        a local address, e.g. ``127.0.0.2`` for "the client changed networks"; the keyword
        fails if the socket is not bound there. Fails if the server refuses the resume,
        naming its error code. With several conversations, all resume concurrently and the
        slowest time is returned.
        """
        convs = self._many(conversation)
        limit = self._limit(timeout)
        wait = after.total_seconds()

        async def resume(conv: SessionConversation) -> float:
            if conv.conn is not None:
                raise AssertionError(f"Conversation {conv.name} is still connected; disconnect it first.")
            if conv.disconnected_at is not None:
                await asyncio.sleep(max(0.0, conv.disconnected_at + wait - time.monotonic()))
            started = time.monotonic()
            await conv.connect(limit, source_address)
            outcome = await conv.resume(limit)
            elapsed = (time.monotonic() - started) * 1000
            if isinstance(outcome, Refusal):
                conv.legs[-1].outcome = f"refused: {outcome.code}"
                raise AssertionError(
                    f"Expected {conv.name} to resume session {conv.session} after a "
                    f"{_since(conv.disconnected_at, started):.2f} s disconnection; the server refused: "
                    f"{outcome.code} ({outcome.message})."
                )
            conv.legs[-1].outcome = "resumed"
            conv.legs[-1].restore_ms = elapsed
            return elapsed

        results = self._run(gather_settled(*(resume(c) for c in convs)), "sessions to resume",
                            wait + limit * 3, convs[0].url if convs else "")
        _raise_first(results)
        for conv in convs:
            leg = conv.legs[-1]
            if source_address and not leg.local_address.startswith(f"{source_address}:"):
                raise AssertionError(
                    f"Expected {conv.name} to reconnect from {source_address}; its socket is bound to {leg.local_address}."
                )
            logger.info(f"{conv.name}: resumed from {leg.local_address} in {leg.restore_ms:.1f} ms "
                        f"(server reports {conv.last_resume.get('history_len')} history entries).")
        return max(results)

    @keyword
    def conversation_context_should_be_restored(
        self, conversation: Conversations, criterion: str = "", timeout: timedelta | None = None
    ) -> None:
        """Fetches history and agent state and fails unless they equal what was said and heard.

        Compares ids, order and content of every history entry, the remembered facts and
        the workflow step, and the server's context digest with one computed from the
        client's own record. The failure names the first difference.
        """
        convs = self._many(conversation)
        limit = self._limit(timeout)
        results = self._run(gather_settled(*(c.fetch_context(limit) for c in convs)), "history", limit + 2)
        _raise_first(results)
        failures = []
        for conv, (actual, digest) in zip(convs, results):
            expected = conv.expected.context()
            difference = first_difference(expected, actual)
            if difference is None and digest != expected.digest:
                difference = f"context digest differs: expected {expected.digest}, the server sent {digest}"
            figures = [
                Figure(f"{conv.name}: history entries", len(actual.messages), "entries", len(expected.messages),
                       "==", criterion),
                Figure(f"{conv.name}: remembered facts", len(actual.memory), "facts", len(expected.memory),
                       "==", criterion),
                Figure(f"{conv.name}: workflow step", actual.step, "", expected.step, "==", criterion,
                       note=f"history retrieved in {conv.retrieval_ms[-1]:.1f} ms"),
            ]
            logger.info(figure_table(figures, f"{conv.name}: context after reconnect"), html=True)
            if difference is not None:
                failures.append(f"{conv.name} (session {conv.session}): {difference}")
            else:
                logger.info(f"{conv.name}: context identical ({len(actual.messages)} entries, digest {digest}).")
        if failures:
            raise AssertionError("Context not restored: " + "; ".join(failures) + ".")

    @keyword
    def conversation_should_start_clean(self, conversation: str, criterion: str = "",
                                        timeout: timedelta | None = None) -> None:
        """Fails unless the conversation's session has no history, no memory and step 0."""
        conv = self._get(conversation)
        limit = self._limit(timeout)
        actual, _ = self._run(conv.fetch_context(limit), "history", limit + 2, conv.url)
        difference = first_difference(Context(), actual)
        logger.info(figure_table([
            Figure(f"{conv.name}: history entries in the new session", len(actual.messages), "entries", 0, "==",
                   criterion),
            Figure(f"{conv.name}: remembered facts in the new session", len(actual.memory), "facts", 0, "==",
                   criterion),
        ], "A new session starts clean"), html=True)
        if difference is not None:
            raise AssertionError(f"Expected the new session of {conv.name} to start clean; {difference}.")

    # -- refusals ---------------------------------------------------------------------------------

    @keyword
    def resume_should_be_refused(
        self,
        conversation: str,
        expected_code: str,
        credential: Credential | None = None,
        after: timedelta = timedelta(0),
        close_code: int | None = None,
        criterion: str = "",
        timeout: timedelta | None = None,
    ) -> None:
        """Tries to resume the conversation's session and fails unless the server refuses.

        With ``credential`` (another user's), the attempt runs on a connection of its own,
        which also pipelines a ``chat`` and a ``history`` request behind the resume: none
        may be answered with session data, and the owner's context must not change.
        Without it, the owner reconnects (after ``after``) and the connection stays the
        conversation's, so `Start New Session` can follow an ``session-expired`` refusal.
        ``close_code``, when given, is the close code the server must send.

        | Resume Should Be Refused    ${chat}    session-forbidden    credential=${bob}    close_code=4403
        | Resume Should Be Refused    ${chat}    session-expired    after=5 s
        """
        conv = self._get(conversation)
        limit = self._limit(timeout)
        wait = after.total_seconds()
        if conv.session is None:
            raise AssertionError(f"Conversation {conversation} has no session.")
        if conv.conn is not None:
            raise AssertionError(f"Conversation {conversation} is still connected; disconnect it first.")

        async def attempt() -> tuple[list[dict[str, Any]], int | None, str, str]:
            if conv.disconnected_at is not None:
                await asyncio.sleep(max(0.0, conv.disconnected_at + wait - time.monotonic()))
            if credential is None:
                conn = await conv.connect(limit)
                who = f"the owner {conv.credential}"
            else:
                conn = await conv.open_authenticated(credential, limit)
                who = str(credential)
            replies = [await conv.request(conn, {"type": "session-resume", "session": conv.session}, limit)]
            if credential is not None:
                for extra in ({"type": "chat", "text": "remember I was never here"}, {"type": "history"}):
                    if conn.is_open:
                        await conn.send(json.dumps(extra))
                replies += await conv.drain_close(conn, limit, at_most=2)
                code, reason = conn.close_code, conn.close_reason
                await conn.close()
                return replies, code, reason, who
            elif expected_code in ("session-forbidden", "session-busy"):
                replies += await conv.drain_close(conn, limit, at_most=1)
            return replies, conn.close_code, conn.close_reason, who

        replies, got_close, reason, who = self._run(attempt(), f"the server's answer to resuming {conversation}",
                                                    wait + limit * 4, conv.url)
        first = replies[0] if replies else {}
        leaked = [(r.get("type"), session_data_in(r)) for r in replies if session_data_in(r)]
        conv.legs[-1].outcome = f"{first.get('type')} {first.get('code', '')}".strip()
        conv.legs[-1].close_code = got_close
        rows = [[i + 1, r.get("type", ""), r.get("code", ""), ", ".join(session_data_in(r)) or "none"]
                for i, r in enumerate(replies)]
        logger.info(html_table(["#", "reply type", "error code", "session data"], rows,
                               f"Replies to {who} resuming {conv.session}"), html=True)
        problems = []
        if first.get("type") != "error" or first.get("code") != expected_code:
            got = f"error {first.get('code')!r}" if first.get("type") == "error" else f"{first.get('type')!r}"
            problems.append(f"the first reply was {got}")
        if leaked:
            problems.append("replies carried session data: " + ", ".join(f"{t} ({', '.join(f)})" for t, f in leaked))
        if close_code is not None and got_close != int(close_code):
            problems.append(f"the close code was {got_close if got_close is not None else 'none'} {reason}".rstrip())
        logger.info(figure_table([
            Figure("replies carrying session data", len(leaked), "replies", 0, "==", criterion),
        ], "Nothing revealed"), html=True)
        if problems:
            expectation = f"error {expected_code!r}" + (f" and close {close_code}" if close_code is not None else "")
            raise AssertionError(f"Expected resuming {conversation}'s session as {who} to be refused with "
                                 f"{expectation}; " + "; ".join(problems) + ".")
        logger.info(f"Resume refused as expected: {expected_code}"
                    f"{f', close {got_close}' if got_close is not None else ''}.")

    @keyword
    def authentication_should_be_rejected(
        self,
        url: str,
        credential: Credential,
        expected_code: str,
        close_code: int = 4401,
        conversation: str | None = None,
        criterion: str = "",
        timeout: timedelta | None = None,
    ) -> None:
        """Authenticates with a bad ``credential`` and fails unless the server rejects it.

        Right behind the ``auth`` message (without waiting for its answer) the client asks
        to resume ``conversation``'s session and for the history: a server that rejects the
        token must answer with error ``expected_code``, close with ``close_code``, and hand
        out no session data at all.

        | Authentication Should Be Rejected    ${URL}    ${expired}    expired-token    conversation=${chat}
        """
        limit = self._limit(timeout)
        probe = SessionConversation(f"{credential.kind}-token", url, credential)
        session = self._get(conversation).session if conversation else None

        async def attempt() -> tuple[list[dict[str, Any]], int | None, str]:
            conn = await probe.open_raw(limit)
            conn.secrets.append(credential.token)
            await conn.send(json.dumps({"type": "auth", "token": credential.token}))
            if session is not None:
                await conn.send(json.dumps({"type": "session-resume", "session": session}))
                await conn.send(json.dumps({"type": "history"}))
            replies = await probe.drain_close(conn, limit, at_most=3 if session is not None else 1)
            code, reason = conn.close_code, conn.close_reason
            await conn.close()
            return replies, code, reason

        replies, got_close, reason = self._run(attempt(), f"the server's answer to {credential}",
                                               limit * 2 + 2, url)
        first = replies[0] if replies else {}
        leaked = [r for r in replies if session_data_in(r) or r.get("type") == "auth-ok"]
        rows = [[i + 1, r.get("type", ""), r.get("code", ""), ", ".join(session_data_in(r)) or "none"]
                for i, r in enumerate(replies)]
        logger.info(html_table(["#", "reply type", "error code", "session data"], rows,
                               f"Replies to {credential}"), html=True)
        logger.info(figure_table([
            Figure(f"replies accepting the {credential.kind} token or carrying session data", len(leaked),
                   "replies", 0, "==", criterion),
        ], f"{credential.kind} token"), html=True)
        problems = []
        if first.get("type") != "error" or first.get("code") != expected_code:
            got = f"error {first.get('code')!r}" if first.get("type") == "error" else repr(first.get("type"))
            problems.append(f"the first reply was {got}")
        if leaked:
            problems.append("the server answered " + ", ".join(str(r.get("type")) for r in leaked))
        if got_close != int(close_code):
            problems.append(f"the close code was {got_close if got_close is not None else 'none'} {reason}".rstrip())
        if problems:
            raise AssertionError(f"Expected the {credential.kind} token to be rejected with {expected_code!r} and "
                                 f"close {close_code}; " + "; ".join(problems) + ".")
        logger.info(f"{credential}: rejected with {expected_code}, close {got_close}, no session data.")

    # -- races, cycles and timing -------------------------------------------------------------------------

    @keyword
    def race_two_resumes(
        self, conversation: str, close_code: int = 4409, criterion: str = "", timeout: timedelta | None = None
    ) -> None:
        """Two connections resume the session at the same instant: exactly one must win.

        Both connect and authenticate first; then both resume requests leave together.
        The winner becomes the conversation's connection; the loser must get error
        ``session-busy`` and close ``close_code``, with no session data.
        """
        conv = self._get(conversation)
        limit = self._limit(timeout)
        if conv.conn is not None:
            raise AssertionError(f"Conversation {conversation} is still connected; disconnect it first.")

        async def race() -> list[tuple[Any, list[dict[str, Any]], int | None]]:
            first_leg = len(conv.legs)
            conns = [await conv.open_authenticated(conv.credential, limit) for _ in range(2)]
            outcomes = await asyncio.gather(*(conv.resume(limit, c) for c in conns), return_exceptions=True)
            settled = []
            for i, (conn, outcome) in enumerate(zip(conns, outcomes)):
                extra = await conv.drain_close(conn, limit) if isinstance(outcome, Refusal) else []
                settled.append((outcome, extra, conn.close_code))
                leg = conv.legs[first_leg + i]
                leg.close_code = conn.close_code
                leg.outcome = "session-resumed" if isinstance(outcome, dict) else f"refused: {getattr(outcome, 'code', outcome)}"
            winners = [c for c, (o, _, _) in zip(conns, settled) if isinstance(o, dict)]
            if len(winners) == 1:
                conv.conn = winners[0]
            for conn in conns:
                if conn is not conv.conn:
                    await conn.close()
            return settled

        settled = self._run(race(), f"two resumes of {conversation} to settle", limit * 4, conv.url)
        rows = []
        for i, (outcome, extra, code) in enumerate(settled, start=1):
            if isinstance(outcome, BaseException):
                raise AssertionError(f"Resume {i} of {conversation} failed outright: {outcome}") from None
            kind = "session-resumed" if isinstance(outcome, dict) else f"error {outcome.code}"
            rows.append([i, kind, code if code is not None else "open", len(extra)])
        logger.info(html_table(["resume", "answer", "close code", "later messages"], rows,
                               f"Two simultaneous resumes of {conv.session}"), html=True)
        winners = sum(1 for o, _, _ in settled if isinstance(o, dict))
        logger.info(figure_table([Figure("resumes accepted", winners, "", 1, "==", criterion)],
                                 "Exactly one resume wins"), html=True)
        if winners != 1:
            raise AssertionError(f"Expected exactly one of two simultaneous resumes of {conversation} to win; "
                                 f"{winners} were accepted.")
        loser = next((o, extra, code) for o, extra, code in settled if isinstance(o, Refusal))
        refusal, extra, code = loser
        leaked = [r.get("type") for r in extra if session_data_in(r)]
        if refusal.code != "session-busy" or code != int(close_code) or leaked:
            raise AssertionError(
                f"Expected the losing resume to get error 'session-busy' and close {close_code} with no session "
                f"data; it got error {refusal.code!r}, close {code}" + (f", and {leaked}" if leaked else "") + "."
            )

    @keyword
    def reconnect_repeatedly(
        self,
        conversation: str,
        cycles: int = 20,
        message: str = "remember fact number {cycle}",
        how: str = "close",
        criterion: str = "",
        timeout: timedelta | None = None,
    ) -> None:
        """Disconnects and resumes ``cycles`` times, checking the whole context every time.

        Each cycle: disconnect (``close`` or ``abort``), reconnect and resume, fetch the
        history and compare it with the client's record, then send ``message`` (``{cycle}``
        is replaced by the cycle number; empty sends nothing) so the context keeps
        growing. Fails at the first cycle whose context differs, naming the difference.
        Retrieval and reconnect-to-restored times are kept for `Get History Retrieval Time`.
        """
        conv = self._get(conversation)
        limit = self._limit(timeout)
        rows: list[list[object]] = []

        async def cycle(number: int) -> str | None:
            await conv.disconnect(how)
            started = time.monotonic()
            await conv.connect(limit)
            outcome = await conv.resume(limit)
            if isinstance(outcome, Refusal):
                return f"the resume was refused: {outcome.code} ({outcome.message})"
            actual, digest = await conv.fetch_context(limit)
            conv.restore_ms.append((time.monotonic() - started) * 1000)
            conv.legs[-1].outcome = "resumed"
            conv.legs[-1].restore_ms = conv.restore_ms[-1]
            expected = conv.expected.context()
            difference = first_difference(expected, actual)
            if difference is None and digest != expected.digest:
                difference = f"context digest differs: expected {expected.digest}, the server sent {digest}"
            rows.append([number, len(actual.messages), conv.restore_ms[-1], conv.retrieval_ms[-1],
                         "identical" if difference is None else "DIFFERENT"])
            if difference is None and message:
                await conv.say(message.replace("{cycle}", str(number)), limit)
            return difference

        failure = None
        done = 0
        for number in range(1, int(cycles) + 1):
            failure = self._run(cycle(number), f"reconnect cycle {number} of {conversation}", limit * 5, conv.url)
            if failure is not None:
                break
            done += 1
        logger.info(html_table(["cycle", "history entries", "reconnect to restored ms", "retrieval ms", "context"],
                               rows, f"{conversation}: reconnect cycles"), html=True)
        logger.info(figure_table([Figure("cycles with an identical context", done, "cycles", int(cycles), "==",
                                         criterion)], "Context across reconnect cycles"), html=True)
        if failure is not None:
            raise AssertionError(f"Cycle {done + 1} of {cycles}: context of {conversation} not restored: {failure}.")

    @keyword
    def get_history_retrieval_time(
        self,
        statistic: str = "p95",
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: float | None = None,
        conversation: Conversations = "ALL",
        criterion: str = "",
        message: str | None = None,
    ) -> float:
        """Returns a statistic of history retrieval time in ms, optionally asserting on it.

        ``statistic`` is ``min``, ``mean``, ``p50``, ``p95``, ``p99``, ``max`` or ``jitter``
        over every history request of ``conversation`` (default all): from sending the
        request to having the parsed reply. Logs p50/p95/p99 and, with an assertion, the
        figure beside its threshold.

        | Get History Retrieval Time    p95    <    1000
        """
        convs = self._many(conversation)
        retrieval = LatencyStats.of([ms for c in convs for ms in c.retrieval_ms])
        restored = LatencyStats.of([ms for c in convs for ms in c.restore_ms])
        if retrieval.count == 0:
            raise AssertionError("No history retrieval was timed yet.")
        logger.info(latency_table(retrieval, "History retrieval time (ms)"), html=True)
        if restored.count:
            logger.info(latency_table(restored, "Reconnect to restored context (ms)"), html=True)
        value = retrieval.get(statistic)
        return check(value, assertion_operator, assertion_expected, f"history retrieval {statistic}", "ms",
                     criterion, message)

    # -- evidence ------------------------------------------------------------------------------------

    @keyword
    def log_conversation_report(self, conversations: Conversations = "ALL") -> None:
        """Logs, per conversation, every connection it made: source, outcome, timings, close code."""
        for conv in self._many(conversations):
            rows = [[leg.number, leg.local_address, leg.outcome, _ms(leg.handshake_ms), _ms(leg.restore_ms),
                     leg.close_code if leg.close_code is not None else ""] for leg in conv.legs]
            exp = conv.expected.context()
            logger.info(html_table(
                ["connection", "local address", "outcome", "handshake ms", "resume ms", "close code"], rows,
                f"{conv.name} ({conv.credential}), session {conv.session}: {len(exp.messages)} entries, "
                f"memory {list(exp.memory)}, step {exp.step}",
            ), html=True)

    @keyword
    def close_conversations(self) -> None:
        """Closes every conversation's connection and forgets the conversations."""
        convs = list(self._conversations.values())
        if convs:
            self._close(convs)
        self._conversations.clear()


def _raise_first(results: Sequence[Any]) -> None:
    for result in results:
        if isinstance(result, BaseException):
            raise result


def _since(then: float | None, now: float) -> float:
    return 0.0 if then is None else now - then


def _ms(value: float | None) -> object:
    return "" if value is None else round(value, 2)
