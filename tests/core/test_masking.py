"""The one secret masker."""

from __future__ import annotations

from wsresilience.core.masking import mask_url


def test_mask_url_hides_secrets() -> None:
    assert mask_url("wss://bob:hunter2@example.test/ws?token=abc&room=7") == (
        "wss://bob:***@example.test/ws?token=***&room=7"
    )
    assert mask_url("ws://127.0.0.1:8765/") == "ws://127.0.0.1:8765/"
