"""Conversations whose context must survive reconnects, address changes and restarts.

A conversation (:class:`~wsresilience.core.conversations.session.SessionConversation`) is one
user's session with the server's agent, across every connection the test makes; it lives
in the context's ``conversations`` registry under its name. The loop-side steps (open a
session, reconnect and resume, one reconnect cycle) return what happened; the keywords
here judge it against the client's own record and word the failure. Many reconnects in a
row, and how fast history comes back, are in :mod:`wsresilience.components.conversations_cycles`;
the security cases (bad tokens, someone else's resume, racing resumes) in
:mod:`wsresilience.components.conversations_security`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from assertionengine import AssertionOperator
from robot.api import SkipExecution, logger
from robot.api.deco import keyword

from wsresilience.components.base import LibraryComponent, deprecated_alias
from wsresilience.components.settings import SettingsKeywords
from wsresilience.context import LibraryContext
from wsresilience.core.conversations.attempts import close_all, session_start_answer
from wsresilience.core.conversations.session import Leg, SessionConversation
from wsresilience.core.conversations.transcript import Context, context_difference, first_difference
from wsresilience.core.evidence.figures import Figure, html_table
from wsresilience.core.evidence.judge import check
from wsresilience.core.masking import Credential, SecretOrStr, mask_url, reveal
from wsresilience.core.runtime.loop import gather_settled
from wsresilience.errors import ResilienceFailure

#: One conversation's name, a list of names, or ``ALL``.
Conversations = str | list[str] | tuple[str, ...]

TAG = "Conversation"


class ConversationKeywords(LibraryComponent):
    """Start, hold, disconnect and resume conversations; check their context came back whole."""

    def __init__(self, ctx: LibraryContext) -> None:
        super().__init__(ctx)
        ctx.on_close(self._close_all)

    def _close_all(self) -> None:
        """Close every conversation's connection and forget the conversations."""
        convs = self.ctx.conversations.clear()
        if convs and self.ctx.loop_started:
            self.run(close_all(convs), "conversations to close", timeout=10)

    # -- settings ---------------------------------------------------------------------------------

    set_context_timeout = deprecated_alias(
        "Set Context Timeout", SettingsKeywords, "set_library_timeout", tags=["Setter", TAG, "Deprecated"],
        doc="""*Deprecated:* use `Set Library Timeout`, which sets the one default timeout of every wait.

        Sets the default wait timeout and returns the previous one.
        """)

    # -- starting and talking -----------------------------------------------------------------------

    @keyword(tags=["Assertion", TAG])
    def target_should_speak_the_session_protocol(self, url: SecretOrStr, timeout: timedelta | None = None) -> None:
        """Skips the test unless ``url`` speaks the session protocol (docs/protocol.md §7).

        Sends ``session-start`` unauthenticated: a server with the protocol answers error
        ``unauthenticated``; anything else means the checks cannot run here, and the test
        ends SKIP with the reason (never PASS).
        """
        url = reveal(url)
        limit = self.timeout_or_default(timeout)
        answer = self.run(session_start_answer(url, limit, self.ctx.target.ssl_context(url)),
                          "an answer to session-start", limit + 2, url)
        if isinstance(answer, dict) and answer.get("type") == "error" and answer.get("code") == "unauthenticated":
            return
        seen = answer if isinstance(answer, str) else f"a {answer.get('type')!r} message"
        raise SkipExecution(self.ctx.mask(
            f"The target {mask_url(url)} does not speak the reference session protocol "
            f"(docs/protocol.md section 7): session-start got {seen}, not error 'unauthenticated'."
        ))

    @keyword(tags=[TAG])
    def start_conversation(
        self,
        url: SecretOrStr,
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
        url = reveal(url)
        if not isinstance(credential, Credential):
            raise TypeError(f"Expected a credential from Create Test User, got {type(credential).__name__}.")
        self.ctx.add_secret(credential.token)
        conv = SessionConversation(name or credential.user, url, credential, self.ctx.max_message_size,
                                   self.ctx.target.ssl_context(url))
        self.ctx.conversations.add(conv.name, conv)
        limit = self.timeout_or_default(timeout)
        reply = self.run(conv.open_session(limit, source_address), f"a new session for {credential}", limit * 3, url)
        logger.info(f"{conv.name}: session {reply['session']} started for {credential} (TTL {reply.get('ttl')} s).")
        return conv.name

    @keyword(tags=[TAG])
    def start_new_session(self, conversation: str, timeout: timedelta | None = None) -> str:
        """Starts a new session on the conversation's open connection; returns its id.

        Used after a resume was refused as expired: the connection is still authenticated,
        and the new session must start clean (see `Conversation Should Start Clean`).
        """
        conv = self.ctx.conversations.get(conversation)
        limit = self.timeout_or_default(timeout)
        reply = self.run(conv.start_session(limit), f"a new session on {conversation}", limit, conv.url)
        logger.info(f"{conversation}: new session {reply['session']} started.")
        return str(reply["session"])

    @keyword(tags=["Getter", TAG])
    def get_conversation_session(
        self,
        conversation: str,
        assertion_operator: AssertionOperator | None = None,
        assertion_expected: Any = None,
        message: str | None = None,
    ) -> str:
        """Returns the id of the conversation's session, optionally asserting on it.

        Session ids are not secrets: the server checks who owns a session.

        | ${id} =    Get Conversation Session    ${chat}
        | Get Conversation Session    ${chat}    !=    ${old id}
        """
        session = self.ctx.conversations.get(conversation).session
        if session is None:
            raise ResilienceFailure(f"Conversation {conversation} has no session.")
        return check(session, assertion_operator, assertion_expected, f"session of {conversation}", message=message)

    @keyword(tags=[TAG])
    def hold_conversation(self, conversation: Conversations, *messages: str, timeout: timedelta | None = None) -> None:
        """Sends ``messages`` one by one, waiting for each reply, and checks each reply as it comes.

        The client predicts every reply from docs/protocol.md 7.2 (the agent's text, the
        ids of both entries, and the memory, step and stage after the exchange) and fails
        at the first reply that differs, naming the message, what was expected and what
        came. With several conversations, each sends the same messages at the same time;
        ``{conversation}`` in a message is replaced by the conversation's name, so every
        conversation's context is its own.

        | Hold Conversation    ${chat}    Hello    remember the deadline is Friday
        """
        convs = self.ctx.conversations.many(conversation)
        limit = self.timeout_or_default(timeout)
        results = self.run(gather_settled(*(c.say_all(messages, limit) for c in convs)),
                           "replies to the conversation", limit * max(1, len(messages)) + 2)
        _raise_first(results)
        pairs = list(zip(convs, results, strict=True))
        differing = [f"{c.name} (session {c.session}) at {mask_url(c.url)}: {said.difference}"
                     for c, said in pairs if said.difference is not None]
        self.judge([Figure(f"{c.name}: replies as docs/protocol.md 7.2 predicts", said.matched, "replies",
                           said.messages, "==", note=_context_note(c)) for c, said in pairs],
                   "Replies to the conversation",
                   lambda: self.ctx.mask(f"Expected every reply as docs/protocol.md 7.2 predicts; {'; '.join(differing)}."))

    # -- disconnecting and resuming -------------------------------------------------------------------

    @keyword(tags=[TAG])
    def disconnect_from_conversation(self, conversation: Conversations, how: str = "close") -> None:
        """Ends the conversation's connection: ``close`` (close handshake) or ``abort`` (TCP reset).

        The time of the disconnect is kept, so `Resume Conversation` can wait for a
        disconnection of a given length.
        """
        if how not in ("close", "abort"):
            raise ValueError(f"Unknown way to disconnect {how!r}; expected close or abort.")
        convs = self.ctx.conversations.many(conversation)
        _raise_first(self.run(gather_settled(*(c.disconnect(how) for c in convs)), "disconnects", 10))
        logger.info(f"Disconnected ({how}): {', '.join(c.name for c in convs)}.")

    @keyword(tags=[TAG])
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
        convs = self.ctx.conversations.many(conversation)
        for conv in convs:
            _require_disconnected(conv)
        limit = self.timeout_or_default(timeout)
        wait = after.total_seconds()
        results = self.run(gather_settled(*(c.reconnect(wait, limit, source_address) for c in convs)),
                           "sessions to resume", wait + limit * 3, convs[0].url if convs else "")
        for conv, result in zip(convs, results, strict=True):
            if isinstance(result, BaseException):
                raise result
            if result.refusal is not None:
                raise ResilienceFailure(self.ctx.mask(
                    f"Expected {conv.name} to resume session {conv.session} after a {result.disconnected_for:.2f} s "
                    f"disconnection; the server refused: {result.refusal.code} ({result.refusal.message})."
                ))
        for conv in convs:
            leg = conv.legs[-1]
            if source_address and not leg.local_address.startswith(f"{source_address}:"):
                raise ResilienceFailure(
                    f"Expected {conv.name} to reconnect from {source_address}; its socket is bound to {leg.local_address}."
                )
            logger.info(f"{conv.name}: resumed from {leg.local_address} in {leg.restore_ms:.1f} ms "
                        f"(server reports {conv.last_resume.get('history_len')} history entries).")
        return max(r.elapsed_ms for r in results)

    # -- is the context back? -------------------------------------------------------------------------

    @keyword(tags=["Assertion", TAG])
    def conversation_context_should_be_restored(
        self, conversation: Conversations, criterion: str = "", timeout: timedelta | None = None
    ) -> None:
        """Fetches history and agent state and fails unless they equal what was said and heard.

        Compares ids, order and content of every history entry (the agent's replies as
        docs/protocol.md 7.2 predicts them), the remembered facts, the workflow step and
        stage, and the server's context digest with one computed from the client's own
        record. The failure names the first difference of every conversation
        that differs; the figures of all of them are logged in one table.
        """
        convs = self.ctx.conversations.many(conversation)
        limit = self.timeout_or_default(timeout)
        results = self.run(gather_settled(*(c.fetch_context(limit) for c in convs)), "history", limit + 2)
        _raise_first(results)
        figures: list[Figure] = []
        failures: list[str] = []
        identical: list[str] = []
        for conv, (actual, digest) in zip(convs, results, strict=True):
            expected = conv.expected.context()
            figures += [
                Figure(f"{conv.name}: history entries", len(actual.messages), "entries", len(expected.messages),
                       "==", criterion),
                Figure(f"{conv.name}: remembered facts", len(actual.memory), "facts", len(expected.memory),
                       "==", criterion),
                Figure(f"{conv.name}: workflow step", actual.step, "", expected.step, "==", criterion,
                       note=f"history retrieved in {conv.retrieval_ms[-1]:.1f} ms"),
            ]
            difference = context_difference(expected, actual, digest)
            if difference is not None:
                failures.append(f"{conv.name} (session {conv.session}): {difference}")
            else:
                identical.append(f"{conv.name}: context identical ({len(actual.messages)} entries, digest {digest}).")
        for line in identical:
            logger.info(line)
        failure = self.ctx.mask("Context not restored: " + "; ".join(failures) + ".")
        title = f"{convs[0].name}: context after reconnect" if len(convs) == 1 else \
            f"{len(convs)} conversations: context after reconnect"
        self.judge(figures, title, failure)
        if failures:
            raise ResilienceFailure(failure)

    @keyword(tags=["Assertion", TAG])
    def conversation_should_start_clean(self, conversation: str, criterion: str = "",
                                        timeout: timedelta | None = None) -> None:
        """Fails unless the conversation's session has no history, no memory and step 0."""
        conv = self.ctx.conversations.get(conversation)
        limit = self.timeout_or_default(timeout)
        actual, _ = self.run(conv.fetch_context(limit), "history", limit + 2, conv.url)
        difference = first_difference(Context(), actual)
        failure = self.ctx.mask(f"Expected the new session of {conv.name} to start clean; {difference}.")
        self.judge([
            Figure(f"{conv.name}: history entries in the new session", len(actual.messages), "entries", 0, "==",
                   criterion),
            Figure(f"{conv.name}: remembered facts in the new session", len(actual.memory), "facts", 0, "==",
                   criterion),
        ], "A new session starts clean", failure)
        if difference is not None:
            raise ResilienceFailure(failure)

    # -- evidence and clean-up --------------------------------------------------------------------------

    @keyword(tags=[TAG])
    def log_conversation_report(self, conversations: Conversations = "ALL") -> None:
        """Logs, per conversation, every connection it made: source, outcome, timings, close code."""
        for conv in self.ctx.conversations.many(conversations):
            exp = conv.expected.context()
            logger.info(html_table(
                ["connection", "local address", "outcome", "handshake ms", "resume ms", "close code"],
                [_leg_row(leg) for leg in conv.legs],
                f"{conv.name} ({conv.credential}), session {conv.session}: {len(exp.messages)} entries, "
                f"memory {list(exp.memory)}, step {exp.step}",
            ), html=True)

    @keyword(tags=[TAG])
    def close_conversations(self) -> None:
        """Closes every conversation's connection and forgets the conversations."""
        self._close_all()


def _require_disconnected(conv: SessionConversation) -> None:
    """A resume needs the conversation's connection gone (see `Disconnect From Conversation`)."""
    if conv.conn is not None:
        raise ResilienceFailure(f"Conversation {conv.name} is still connected; disconnect it first.")


def _raise_first(results: Sequence[Any]) -> None:
    """Raise the first exception among settled results, if any."""
    for result in results:
        if isinstance(result, BaseException):
            raise result


def _leg_row(leg: Leg) -> list[object]:
    """One row of the conversation report."""
    return [leg.number, leg.local_address, leg.outcome, _ms(leg.handshake_ms), _ms(leg.restore_ms),
            leg.close_code if leg.close_code is not None else ""]


def _context_note(conv: SessionConversation) -> str:
    """What the conversation's context holds now, for a figure's note."""
    exp = conv.expected.context()
    return f"the context holds {len(exp.messages)} entries, {len(exp.memory)} facts, workflow step {exp.step}"


def _ms(value: float | None) -> object:
    return "" if value is None else round(value, 2)
