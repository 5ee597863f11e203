"""The one secret masker."""

from __future__ import annotations

from wsresilience.core.masking import mask_url


def test_mask_url_hides_secrets() -> None:
    assert mask_url("wss://bob:hunter2@example.test/ws?token=abc&room=7") == (
        "wss://bob:***@example.test/ws?token=***&room=7"
    )
    assert mask_url("ws://127.0.0.1:8765/") == "ws://127.0.0.1:8765/"


def test_a_secret_url_prints_masked_and_keeps_the_real_value() -> None:
    """str(), repr() and format() show the masked URL; only ``.value`` (and reveal) hold the real one."""
    from wsresilience.core.masking import SecretUrl, reveal

    real = "wss://qa:pw-1f3e@example.test/ws?token=eyJabc.def&room=7"
    url = SecretUrl(real)
    masked = "wss://qa:***@example.test/ws?token=***&room=7"
    assert str(url) == masked
    assert repr(url) == f"'{masked}'"
    assert f"{url}" == masked
    assert "pw-1f3e" not in repr(url) and "eyJabc" not in repr(url)
    assert url.value == real and reveal(url) == real and reveal(real) == real


def test_a_secret_url_teaches_the_masker_its_secrets() -> None:
    """Once a URL is held as a SecretUrl, its password and token are hidden in any text,
    e.g. an error message that quotes only the token."""
    from wsresilience.core.masking import SecretUrl, mask_text

    SecretUrl("ws://qa:pw-77aa@h/?token=tok-5c1d9e&room=1")
    assert mask_text("server said: bad token tok-5c1d9e for pw-77aa") == "server said: bad token *** for ***"
    assert mask_text("room=1") == "room=1"


def test_robot_refuses_a_secret_url_where_a_plain_string_is_expected() -> None:
    """A keyword typed ``str`` cannot silently receive the masked text: Robot refuses the
    conversion, so every keyword that takes a URL must say it accepts secrets."""
    import pytest
    from robot.running import TypeInfo

    from wsresilience.core.masking import SecretUrl

    with pytest.raises(ValueError, match=r"got value 'ws://h/\?token=\*\*\*' \(SecretUrl\) that cannot be converted to string"):
        TypeInfo.from_type_hint(str).convert(SecretUrl("ws://h/?token=x"), "url")
    assert TypeInfo.from_type_hint("str | Secret").convert(SecretUrl("ws://h/?token=x"), "url").value == (
        "ws://h/?token=x")


def test_protect_url_wraps_only_urls_that_carry_a_secret() -> None:
    from robot.api.types import Secret

    from wsresilience.core.masking import SecretUrl, protect_url

    assert protect_url("ws://127.0.0.1:9/") == "ws://127.0.0.1:9/"
    assert isinstance(protect_url("ws://127.0.0.1:9/?token=t0k"), SecretUrl)
    assert isinstance(protect_url("ws://u:p@127.0.0.1:9/"), SecretUrl)
    # A URL the user handed over as a Robot Secret stays secret, whatever it looks like.
    assert isinstance(protect_url("ws://127.0.0.1:9/", Secret("ws://127.0.0.1:8/a1b2")), SecretUrl)
