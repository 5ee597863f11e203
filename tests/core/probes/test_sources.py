"""Reading a metrics endpoint: a failure names the endpoint with its secrets masked."""

from __future__ import annotations

import socket

import pytest

from wsresilience.core.probes.sources import scrape
from wsresilience.errors import ProbeUnavailable


def test_an_unreachable_metrics_endpoint_is_named_without_its_key() -> None:
    with socket.socket() as held:  # bound, never listening: the connection is refused
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        with pytest.raises(ProbeUnavailable) as caught:
            scrape(f"http://127.0.0.1:{port}/metrics?api_key=k3y-9f2c", timeout=2)
    assert f"metrics endpoint http://127.0.0.1:{port}/metrics?api_key=*** did not answer" in str(caught.value)
    assert "k3y-9f2c" not in str(caught.value)
