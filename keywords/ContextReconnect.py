"""The conversation view: the keywords for conversations that survive reconnects and restarts."""

from __future__ import annotations

from robot.api.deco import library

from wsresilience import __version__
from wsresilience.components.base import ResilienceLibrary
from wsresilience.components.conversations import ConversationKeywords
from wsresilience.components.conversations_cycles import ReconnectCycleKeywords
from wsresilience.components.conversations_security import SessionSecurityKeywords


@library(scope="SUITE", version=__version__, doc_format="ROBOT")
class ContextReconnect(ResilienceLibrary):
    """Tests that a conversation's context survives reconnects, address changes and restarts.

    A *conversation* is one user's session with the server's agent: the messages
    exchanged (numbered, in order) and the agent's state (the facts it remembers and the
    step its workflow has reached). The library keeps its own record of the conversation:
    everything it said, and the reply and state the protocol's agent must give to each
    (docs/protocol.md 7.2), checked as every reply arrives. After a reconnect it compares
    the server's copy with that record and names the first difference. The protocol is the reference server's
    session protocol (docs/protocol.md, section 7).

    %TOC%

    = Conversations =

    `Start Conversation` opens a connection, authenticates with a credential and starts a
    session; it returns the conversation's name. Keywords taking ``conversations``
    accept one name, a list of names or ``ALL`` (they then act on all at once,
    concurrently).

    | ${alice} =    Create Test User    alice
    | ${chat} =    Start Conversation    ${URL}    ${alice}
    | Hold Conversation    ${chat}    Hello    remember my name is Alice
    | Disconnect From Conversation    ${chat}
    | Resume Conversation    ${chat}    after=1 s    source_address=127.0.0.2
    | Conversation Context Should Be Restored    ${chat}

    = Credentials =

    Tokens never reach the log: credentials are ``Credential`` objects that print as
    ``<user alice-3f2a: valid token ***>``. Valid and expired ones come from
    ``ReferenceServer`` (it knows the signing secret); `Create Malformed Credential` and
    `Create Forged Credential` make ones no server should accept. Every token the library
    is handed or creates is a secret its messages mask. `Tokens Should Not Appear In The
    Log` checks every message logged so far.

    = Security cases =

    `Authentication Should Be Rejected` sends a bad token followed at once by a resume and
    a history request, and fails if any reply carries session data. `Session Resume Should
    Be Refused` tries to resume a session as someone else, or after its TTL. `Race Two
    Resumes` makes two connections resume one session at the same instant.

    = Evidence =

    Every keyword that judges a figure logs it beside its threshold. `Log Conversation
    Report` shows each connection a conversation made (source address, outcome, timings).

    = Timeouts =

    Every wait has a timeout: the library default (``timeout`` at import, 10 s) unless the
    keyword takes its own. A wait that runs out fails in one line naming what it waited
    for and where.

    = This view and the whole library =

    This is the conversation view: the conversation keywords alone, on a context of their
    own. ``wsresilience.WebSocketResilience`` has every keyword of every concern on one shared
    context (one timeout, one loop, one set of handles and secrets). `Set Context Timeout`
    is deprecated: use ``Set Library Timeout`` of ``wsresilience.WebSocketResilience``.
    """

    COMPONENTS = (ConversationKeywords, ReconnectCycleKeywords, SessionSecurityKeywords)
