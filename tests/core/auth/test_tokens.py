"""Token sources: minted tokens the target verifies, a command's tokens, and what neither can give."""

from __future__ import annotations

import shlex
import sys

import jwt
import pytest
from support.external_server import TOKEN_COMMAND
from wsresilience.core.auth.tokens import CommandSource, JwtSecretSource, MaskedSecret, seconds_to_expiry
from wsresilience.errors import TokenSourceFailed, TokenUnavailable
from wsresilience.refserver.auth import SECRET_ENV, TokenRejected, verify_token

SECRET = "unit-test-secret-0123456789abcdef-0123456789abcdef"


def test_a_masked_secret_never_prints() -> None:
    held = MaskedSecret(SECRET)
    assert SECRET not in f"{held} {held!r} {[held]}"
    assert held.value == SECRET


def test_minted_tokens_are_what_the_reference_server_accepts() -> None:
    source = JwtSecretSource(MaskedSecret(SECRET), issuer="refserver")
    assert verify_token(SECRET, source.valid("alice", 60).token).user == "alice"
    with pytest.raises(TokenRejected) as rejected:
        verify_token(SECRET, source.expired("alice", 60).token)
    assert rejected.value.code == "expired-token"


def test_issuer_and_audience_are_claimed_when_given() -> None:
    source = JwtSecretSource(MaskedSecret(SECRET), issuer="idp.example", audience="chat-api", algorithm="HS384")
    token = source.valid("bob", 60).token
    claims = jwt.decode(token, SECRET, algorithms=["HS384"], audience="chat-api", issuer="idp.example")
    assert claims["sub"] == "bob" and claims["exp"] - claims["iat"] == 60
    assert "aud" not in jwt.decode(JwtSecretSource(MaskedSecret(SECRET)).mint("bob", 60), SECRET, algorithms=["HS256"])


def test_a_key_that_cannot_sign_fails_without_showing_it() -> None:
    with pytest.raises(TokenSourceFailed) as failed:
        JwtSecretSource(MaskedSecret(SECRET), algorithm="RS256").mint("carol", 60)
    assert "RS256" in str(failed.value) and SECRET not in str(failed.value)


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return SECRET


def test_placeholders_are_replaced_in_each_argument() -> None:
    source = CommandSource("get-token --for={user} --ttl {ttl} 'a b'")
    assert source.argv("dave-1", -59.7) == ["get-token", "--for=dave-1", "--ttl", "-59", "a b"]


def test_a_command_prints_the_token_stripped(secret_env: str) -> None:
    credential = CommandSource(TOKEN_COMMAND).valid("erin", 120)
    assert credential.token == credential.token.strip()
    assert verify_token(secret_env, credential.token).user == "erin"
    assert credential.token not in str(credential)


def test_a_command_that_backdates_gives_an_expired_token(secret_env: str) -> None:
    credential = CommandSource(TOKEN_COMMAND).expired("frank", 60)
    assert credential.kind == "expired"
    left = seconds_to_expiry(credential.token)
    assert left is not None and left < -50


def test_a_command_that_cannot_backdate_gives_no_expired_token(secret_env: str) -> None:
    with pytest.raises(TokenUnavailable) as unavailable:
        CommandSource(TOKEN_COMMAND + " --no-backdate").expired("gina", 60)
    reason = str(unavailable.value)
    assert "cannot give an expired token" in reason and "valid for" in reason


def test_a_failing_command_says_how_without_its_output() -> None:
    script = "import sys; print('tok-12345'); print('refused tok-12345', file=sys.stderr); sys.exit(3)"
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(script)} {{user}}"
    with pytest.raises(TokenSourceFailed) as failed:
        CommandSource(command).valid("hank", 60)
    message = str(failed.value)
    assert "exited with code 3" in message and "refused ***" in message
    assert "tok-12345" not in message


def test_a_command_printing_more_than_a_token_is_refused() -> None:
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote('print(1, 2)')} {{user}}"
    with pytest.raises(TokenSourceFailed, match="printed no single token"):
        CommandSource(command).valid("ivy", 60)


def test_a_command_that_hangs_is_given_up_on() -> None:
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote('import signal; signal.pause()')} {{user}}"
    with pytest.raises(TokenSourceFailed, match="still running after 1 s"):
        CommandSource(command, timeout=1).valid("jack", 60)
