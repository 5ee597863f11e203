"""The refusal checks against servers that refuse correctly but say too much.

`Session Resume Should Be Refused` meets the seeded defect ``leak-session-in-refusal`` in the
suite tests; here `Authentication Should Be Rejected` and `Race Two Resumes` meet servers of
our own that leak elsewhere: the reference server, run in a thread of this process, with its
``auth`` or ``session-resume`` handler wrapped so that an error it sends quotes the session.
Everything else about them is the reference server's: real sockets, real refusals, real
close codes. Each check must PASS on the unwrapped server and FAIL on the leaky one.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wsresilience.ContextReconnect import ContextReconnect
from wsresilience.core.masking import Credential
from wsresilience.refserver.app import ServerApp
from wsresilience.refserver.auth import SECRET_ENV, issue_token
from wsresilience.refserver.client import Client
from wsresilience.refserver.config import ServerConfig

SECRET = "component-test-secret-that-is-long-enough-for-hs256"
CONVERSATION = ["Hello, I need help planning a product launch", "remember the budget is 20000 euros",
                "what do you remember"]


class LeakyServer:
    """The reference server in a thread of its own; ``leak`` names the refusal that says too much.

    ``auth``: a rejected token's error quotes the last agent reply the server sent anyone.
    ``busy``: a ``session-busy`` error says how many entries the session holds.
    ``""``: nothing leaks (the control).
    """

    def __init__(self, data_dir: Path, leak: str) -> None:
        self.leak = leak
        self.config = ServerConfig(port=0, ping_interval=None, close_timeout=1, data_dir=str(data_dir),
                                   session_ttl=60)
        self.last_reply = ""
        self.entries: dict[str, int] = {}
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Future[None] | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> LeakyServer:
        self._thread.start()
        assert self._ready.wait(10), "the server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(10)

    async def _main(self) -> None:
        app = ServerApp(self.config)
        await app.start()
        self._wrap(app.router.handlers)
        self.url, self._loop = app.url, asyncio.get_running_loop()
        self._stop = self._loop.create_future()
        self._ready.set()
        try:
            await self._stop
        finally:
            await app.stop()

    def _wrap(self, handlers: dict[str, Any]) -> None:
        chat, auth, resume = handlers["chat"], handlers["auth"], handlers["session-resume"]

        async def watched_chat(client: Client, message: dict[str, Any]) -> None:
            async def spy(reply: dict[str, Any]) -> None:
                if reply.get("type") == "reply":
                    self.last_reply = reply["reply"]["text"]
                    self.entries[reply["session"]] = reply["reply"]["id"]
                await Client.send_json(client, reply)

            client.send_json = spy  # type: ignore[method-assign]
            try:
                await chat(client, message)
            finally:
                del client.send_json

        def saying_too_much(handler: Any, code: str, extra: Any) -> Any:
            async def wrapped(client: Client, message: dict[str, Any]) -> None:
                async def leaky(error_code: str, text: str) -> None:
                    if error_code == code or (code == "*" and error_code != "session-busy"):
                        text += extra(message)
                    await Client.send_error(client, error_code, text)

                client.send_error = leaky  # type: ignore[method-assign]
                try:
                    await handler(client, message)
                finally:
                    del client.send_error
            return wrapped

        handlers["chat"] = watched_chat
        if self.leak == "auth":
            handlers["auth"] = saying_too_much(auth, "*", lambda m: f" (last reply here: {self.last_reply[:40]!r})")
        if self.leak == "busy":
            handlers["session-resume"] = saying_too_much(
                resume, "session-busy", lambda m: f" (it holds {self.entries.get(m.get('session'), 0)} entries)")


@pytest.fixture
def lib(monkeypatch: pytest.MonkeyPatch) -> Iterator[ContextReconnect]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    library = ContextReconnect()
    yield library
    library.ctx.close()


def _user(name: str, ttl: float = 3600) -> Credential:
    return Credential(name, issue_token(SECRET, name, ttl), "valid" if ttl > 0 else "expired")


def _held_conversation(lib: ContextReconnect, url: str) -> str:
    chat = lib.run_keyword("start_conversation", [url, _user("alice-0123abcd")], {})
    lib.run_keyword("hold_conversation", [chat, *CONVERSATION], {})
    lib.run_keyword("disconnect_from_conversation", [chat], {})
    return chat


def _reject_expired(lib: ContextReconnect, server: LeakyServer, chat: str) -> None:
    lib.run_keyword("authentication_should_be_rejected",
                    [server.url, _user("alice-0123abcd", -60), "expired-token"], {"close_code": 4401, "conversation": chat})


def _race(lib: ContextReconnect, server: LeakyServer, chat: str) -> None:
    lib.run_keyword("race_two_resumes", [chat], {"close_code": 4409})


@pytest.mark.parametrize("check", [_reject_expired, _race])
def test_a_refusal_that_says_nothing_passes(lib: ContextReconnect, tmp_path: Path, check: Any) -> None:
    with LeakyServer(tmp_path, "") as server:
        check(lib, server, _held_conversation(lib, server.url))


@pytest.mark.parametrize(("leak", "check", "says"), [
    ("auth", _reject_expired, [
        "Expected the expired token to be rejected with 'expired-token' and close 4401; the answers revealed the "
        "session: the 'message' of frame 1 (error 'expired-token') reveals history entry #6 (agent), ",
        "remembered fact 1: \"…y here: 'I remember: the budget is 20000 euros.')\"."]),
    ("busy", _race, [
        "Expected the losing resume to get error 'session-busy' and close 4409 with no session data; it got error "
        "'session-busy', close 4409; the refusal revealed the session: the 'message' of frame 1 (error "
        "'session-busy') reveals the history length 6: '…(it holds 6 entries)'."]),
])
def test_a_refusal_that_quotes_the_session_fails(lib: ContextReconnect, tmp_path: Path, leak: str, check: Any,
                                                 says: list[str]) -> None:
    with LeakyServer(tmp_path, leak) as server:
        chat = _held_conversation(lib, server.url)
        with pytest.raises(AssertionError) as failed:
            check(lib, server, chat)
    message = str(failed.value)
    assert all(part in message for part in says) and "\n" not in message, message
