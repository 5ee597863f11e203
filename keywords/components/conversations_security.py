"""Who may hold a conversation's session: bad tokens, other users, racing resumes, leaked tokens.

The security half of the conversation keywords (the other half is
:mod:`wsresilience.components.conversations`; both use the context's ``conversations``
registry). The attempts themselves are loop-side functions of
:mod:`wsresilience.core.conversations.attempts` that return every reply and the close code;
the keywords here judge them: the first reply must be the expected error, no reply may
carry session data, the close code must be the documented one, and nothing the refused
client received (every frame from its request on, read or not, every field, and the close
reason) may reveal any part of the session: its history, memory, counts, ids or owner
(:mod:`wsresilience.core.conversations.disclosure`).

Tokens are secrets: every credential the library creates or is handed is registered with
the context (``ctx.add_secret``), every failure it words is masked (``ctx.mask``), and a
log watcher on the context notes any logged message that still contains one, for
`Tokens Should Not Appear In The Log`.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from datetime import timedelta
from typing import Any

from robot.api import logger
from robot.api.deco import keyword

from wsresilience.components.base import LibraryComponent
from wsresilience.context import LibraryContext
from wsresilience.core.conversations.attempts import (
    INTRUDER_REQUESTS,
    Answer,
    authenticate_with,
    race_resumes,
    resume_as,
)
from wsresilience.core.conversations.disclosure import Disclosure, Undisclosed, disclosures
from wsresilience.core.conversations.session import Refusal, SessionConversation
from wsresilience.core.conversations.transcript import session_data_in
from wsresilience.core.evidence.figures import Figure, html_table
from wsresilience.core.masking import Credential, SecretOrStr, reveal
from wsresilience.errors import ResilienceFailure

#: What a JWT looks like in text: a base64url JSON header, a dot, more.
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")

TAGS = ["Conversation", "Security"]


class TokenWatch:
    """Looks at every message Robot logs while the library is in scope, for tokens.

    A message is a finding if it contains a secret the context knows (every test token
    this process created, every secret registered) or anything shaped like a JWT.
    """

    def __init__(self, ctx: LibraryContext) -> None:
        self.ctx = ctx
        self.findings: list[str] = []
        self.seen = 0

    def log_message(self, message: Any) -> None:
        """Inspect one logged message (a Robot listener-v3 ``Message``)."""
        text = str(getattr(message, "message", ""))
        level = getattr(message, "level", "")
        self.seen += 1
        if self.ctx.mask(text) != text:
            self.findings.append(f"a test token in a {level} message")
        elif JWT_PATTERN.search(text):
            self.findings.append(f"a JWT-shaped string in a {level} message")


class SessionSecurityKeywords(LibraryComponent):
    """Credentials no server should accept, and checks that a session is only its owner's."""

    def __init__(self, ctx: LibraryContext) -> None:
        super().__init__(ctx)
        self.watch = TokenWatch(ctx)
        ctx.watch_log(self.watch.log_message)

    # -- credentials -------------------------------------------------------------------------------

    @keyword(tags=TAGS)
    def create_malformed_credential(self, user: str = "mallory") -> Credential:
        """Returns a credential whose token is not a JWT at all.

        | ${bad} =    Create Malformed Credential
        """
        credential = Credential(user, "not-a-jwt-" + secrets.token_urlsafe(12), "malformed")
        self.ctx.add_secret(credential.token)
        return credential

    @keyword(tags=TAGS)
    def create_forged_credential(self, credential: Credential, how: str = "bad-signature") -> Credential:
        """Returns a forged copy of ``credential`` that no server should accept.

        ``how`` is ``bad-signature`` (the same claims signed with another key) or
        ``tampered`` (the claims changed to another user, the signature kept).

        | ${forged} =    Create Forged Credential    ${alice}    tampered
        """
        self.ctx.add_secret(credential.token)
        forged = forge(credential, how)
        self.ctx.add_secret(forged.token)
        return forged

    @keyword(tags=["Assertion", *TAGS])
    def tokens_should_not_appear_in_the_log(self, criterion: str = "") -> None:
        """Fails if any message logged so far in this suite contains a test token.

        Looks at every message Robot logged while this library was in scope (assignments,
        keyword messages, failures) for every token this process created, and for any
        JWT-shaped string. The files themselves are checked by the project's tests.
        """
        findings = list(self.watch.findings)
        figure = Figure("log messages containing a token", len(findings), "messages", 0, "==", criterion,
                        note=f"{self.watch.seen} messages inspected")
        self.judge([figure], "Tokens in the log",
                   lambda: f"Expected no token in the log; found {len(findings)}: {findings[0]}.")

    # -- refusals ---------------------------------------------------------------------------------

    @keyword(tags=["Assertion", *TAGS])
    def authentication_should_be_rejected(
        self,
        url: SecretOrStr,
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
        out no session data at all: no reply may carry session fields, and no frame or
        close reason may quote the session's history or memory, its counts, ids or owner.

        | Authentication Should Be Rejected    ${URL}    ${expired}    expired-token    conversation=${chat}
        """
        url = reveal(url)
        self.ctx.add_secret(credential.token)
        limit = self.timeout_or_default(timeout)
        conv = self.ctx.conversations.get(conversation) if conversation else None
        session = conv.session if conv is not None else None
        answer = self.run(authenticate_with(url, credential, session, limit, self.ctx.target.ssl_context(url)),
                          f"the server's answer to {credential}", limit * 2 + 2, url)
        logger.info(replies_table(answer, f"Replies to {credential}"), html=True)
        leaked = [r for r in answer.replies if session_data_in(r) or r.get("type") == "auth-ok"]
        revealed = self._revealed(answer.frames, answer.close_reason, conv, [credential.user, session or ""])
        problems = _first_reply_problems(answer, expected_code)
        if leaked:
            problems.append("the server answered " + ", ".join(str(r.get("type")) for r in leaked))
        problems += _close_problems(answer, close_code) + _revealing_problems(revealed, "the answers")
        failure = self.ctx.mask(f"Expected the {credential.kind} token to be rejected with {expected_code!r} and "
                                f"close {close_code}; " + "; ".join(problems) + ".")
        self.judge([Figure(f"replies accepting the {credential.kind} token or carrying session data", len(leaked),
                           "replies", 0, "==", criterion),
                    _revealed_figure(revealed, len(answer.frames), criterion)], f"{credential.kind} token", failure)
        if problems:
            raise ResilienceFailure(failure)
        logger.info(f"{credential}: rejected with {expected_code}, close {answer.close_code}, no session data.")

    @keyword(tags=["Assertion", *TAGS])
    def session_resume_should_be_refused(
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
        may be answered with session data, and the owner's context must not change. Every
        refusal, whoever asks, must reveal nothing of the session: every frame the client
        received from its resume on (every field, at any depth) and the close reason are
        searched for the session's history texts (any 12-character run), remembered facts,
        length, fact count, step, history ids and owner.
        Without it, the owner reconnects (after ``after``) and the connection stays the
        conversation's, so `Start New Session` can follow an ``session-expired`` refusal.
        ``close_code``, when given, is the close code the server must send.

        (Named apart from the stream keywords' `Stream Resume Should Be Refused`.)

        | Session Resume Should Be Refused    ${chat}    session-forbidden    credential=${bob}    close_code=4403
        | Session Resume Should Be Refused    ${chat}    session-expired    after=5 s
        """
        conv = self.ctx.conversations.get(conversation)
        if credential is not None:
            self.ctx.add_secret(credential.token)
        limit = self.timeout_or_default(timeout)
        wait = after.total_seconds()
        if conv.session is None:
            raise ResilienceFailure(f"Conversation {conversation} has no session.")
        if conv.conn is not None:
            raise ResilienceFailure(f"Conversation {conversation} is still connected; disconnect it first.")
        who = f"the owner {conv.credential}" if credential is None else str(credential)
        answer = self.run(resume_as(conv, credential, wait, expected_code, limit),
                          f"the server's answer to resuming {conversation}", wait + limit * 4, conv.url)
        logger.info(replies_table(answer, f"Replies to {who} resuming {conv.session}"), html=True)
        leaked = [(r.get("type"), session_data_in(r)) for r in answer.replies if session_data_in(r)]
        sent = [str(r["text"]) for r in INTRUDER_REQUESTS if "text" in r] if credential is not None else []
        user = credential.user if credential is not None else conv.credential.user
        revealed = self._revealed(answer.frames, answer.close_reason, conv, [user, conv.session, *sent])
        problems = _first_reply_problems(answer, expected_code)
        if leaked:
            problems.append("replies carried session data: " + ", ".join(f"{t} ({', '.join(f)})" for t, f in leaked))
        if close_code is not None:
            problems += _close_problems(answer, close_code)
        problems += _revealing_problems(revealed, "the refusal")
        expectation = f"error {expected_code!r}" + (f" and close {close_code}" if close_code is not None else "")
        failure = self.ctx.mask(f"Expected resuming {conversation}'s session as {who} to be refused with "
                                f"{expectation}; " + "; ".join(problems) + ".")
        self.judge([Figure("replies carrying session data", len(leaked), "replies", 0, "==", criterion),
                    _revealed_figure(revealed, len(answer.frames), criterion)],
                   "Nothing revealed", failure)
        if problems:
            raise ResilienceFailure(failure)
        closed = f", close {answer.close_code}" if answer.close_code is not None else ""
        logger.info(f"Resume refused as expected: {expected_code}{closed}.")

    # -- races --------------------------------------------------------------------------------------

    @keyword(tags=["Assertion", *TAGS])
    def race_two_resumes(
        self, conversation: str, close_code: int = 4409, criterion: str = "", timeout: timedelta | None = None
    ) -> None:
        """Two connections resume the session at the same instant: exactly one must win.

        Both connect and authenticate first; then both resume requests leave together.
        The winner becomes the conversation's connection; the loser must get error
        ``session-busy`` and close ``close_code``, with no session data, and nothing it
        received may reveal the session (as in `Session Resume Should Be Refused`).
        """
        conv = self.ctx.conversations.get(conversation)
        limit = self.timeout_or_default(timeout)
        if conv.conn is not None:
            raise ResilienceFailure(f"Conversation {conversation} is still connected; disconnect it first.")
        entries = self.run(race_resumes(conv, limit), f"two resumes of {conversation} to settle", limit * 4, conv.url)
        rows = []
        for i, entry in enumerate(entries, start=1):
            if isinstance(entry.outcome, BaseException):
                raise ResilienceFailure(
                    self.ctx.mask(f"Resume {i} of {conversation} failed outright: {entry.outcome}")
                ) from None
            kind = "session-resumed" if entry.won else f"error {entry.outcome.code}"
            rows.append([i, kind, entry.close_code if entry.close_code is not None else "open", len(entry.later)])
        logger.info(html_table(["resume", "answer", "close code", "later messages"], rows,
                               f"Two simultaneous resumes of {conv.session}"), html=True)
        winners = sum(1 for entry in entries if entry.won)
        self.judge([Figure("resumes accepted", winners, "", 1, "==", criterion)], "Exactly one resume wins",
                   f"Expected exactly one of two simultaneous resumes of {conversation} to win; "
                   f"{winners} were accepted.")
        loser = next(entry for entry in entries if isinstance(entry.outcome, Refusal))
        refusal = loser.outcome
        assert isinstance(refusal, Refusal)
        leaked = [r.get("type") for r in loser.later if session_data_in(r)]
        revealed = self._revealed(loser.frames, loser.close_reason, conv, [conv.credential.user, conv.session or ""])
        if refusal.code != "session-busy" or loser.close_code != int(close_code) or leaked or revealed:
            raise ResilienceFailure(self.ctx.mask(
                f"Expected the losing resume to get error 'session-busy' and close {close_code} with no session "
                f"data; it got error {refusal.code!r}, close {loser.close_code}"
                + (f", and {leaked}" if leaked else "")
                + "".join(f"; {problem}" for problem in _revealing_problems(revealed, "the refusal")) + "."
            ))


    def _revealed(self, frames: list[str | bytes], close_reason: str, conv: SessionConversation | None,
                  known: list[str]) -> list[Disclosure]:
        """Where ``frames`` and ``close_reason`` reveal ``conv``'s session (logged as a table if anywhere)."""
        if conv is None:
            return []
        secret = Undisclosed.of(conv.expected.context(), conv.credential.user)
        revealed = disclosures(frames, close_reason, secret, known)
        if revealed:
            logger.info(html_table(["where", "reveals", "excerpt"],
                                   [[d.where, d.what, self.ctx.mask(d.excerpt)] for d in revealed],
                                   f"What {conv.name}'s session gave away"), html=True)
        return revealed


def forge(credential: Credential, how: str) -> Credential:
    """A copy of ``credential`` with a token no server should accept (see `Create Forged Credential`)."""
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


def replies_table(answer: Answer, caption: str) -> str:
    """The server's replies to an attempt: type, error code, and any session data they carried."""
    rows = [[i + 1, r.get("type", ""), r.get("code", ""), ", ".join(session_data_in(r)) or "none"]
            for i, r in enumerate(answer.replies)]
    return html_table(["#", "reply type", "error code", "session data"], rows, caption)


def _first_reply_problems(answer: Answer, expected_code: str) -> list[str]:
    """What is wrong with the first reply, if it is not error ``expected_code``."""
    first = answer.first
    if first.get("type") == "error" and first.get("code") == expected_code:
        return []
    got = f"error {first.get('code')!r}" if first.get("type") == "error" else repr(first.get("type"))
    return [f"the first reply was {got}"]


def _revealing_problems(revealed: list[Disclosure], what: str) -> list[str]:
    """One problem naming everything the first revealing place gave away, and how many more there are."""
    if not revealed:
        return []
    first = revealed[0]
    items = [d.what for d in revealed if d.where == first.where]
    others = len({d.where for d in revealed}) - 1
    more = f" (and {others} more places)" if others else ""
    return [f"{what} revealed the session: {first.where} reveals {', '.join(items)}: {first.excerpt!r}{more}"]


def _revealed_figure(revealed: list[Disclosure], frames: int, criterion: str) -> Figure:
    """The count of things revealed, beside its threshold of none."""
    return Figure("things revealed about the session (texts, facts, counts, ids, owner)", len(revealed), "", 0,
                  "==", criterion, note=f"{frames} frames and the close reason read")


def _close_problems(answer: Answer, close_code: int) -> list[str]:
    """What is wrong with the close, if it is not ``close_code``."""
    if answer.close_code == int(close_code):
        return []
    got = answer.close_code if answer.close_code is not None else "none"
    return [f"the close code was {got} {answer.close_reason}".rstrip()]
