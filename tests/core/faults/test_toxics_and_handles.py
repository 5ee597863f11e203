"""The pure parts of the fault keywords: faults in Toxiproxy's words, and proxy look-ups."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from wsresilience.core.faults.backends import InProcessBackend
from wsresilience.core.faults.handle import ProxyHandle, find_proxy, same_endpoint
from wsresilience.core.faults.toxics import milliseconds, rate_kb, toxic_specs
from wsresilience.core.runtime.registry import Registry


def test_one_direction_gives_one_toxic_named_after_its_stream_or_as_given() -> None:
    assert [t["name"] for t in toxic_specs("latency", {}, "downstream", 1, None)] == ["latency_downstream"]
    assert [t["name"] for t in toxic_specs("latency", {}, "upstream", 1, "slow")] == ["slow"]


def test_both_directions_give_two_toxics_with_the_label() -> None:
    specs = toxic_specs("timeout", {"timeout": 0}, " Both ", 0.5, None, label="blackhole")
    assert [(t["name"], t["stream"], t["type"], t["toxicity"]) for t in specs] == [
        ("blackhole_upstream", "upstream", "timeout", 0.5),
        ("blackhole_downstream", "downstream", "timeout", 0.5),
    ]
    assert [t["name"] for t in toxic_specs("latency", {}, "both", 1, "x")] == ["x_upstream", "x_downstream"]


def test_a_direction_that_is_none_of_the_three_is_a_usage_error() -> None:
    with pytest.raises(ValueError, match="direction upstream, downstream or both, got 'sideways'"):
        toxic_specs("latency", {}, "sideways", 1, None)


@pytest.mark.parametrize(("rate", "kb"), [(64, 64), ("64 KB/s", 64), ("2 MB/s", 2000), ("2000 B/s", 2),
                                          ("1.5 MB/s", 1500), ("0.064 MB/s", 64), (64.0, 64)])
def test_rates_are_kb_per_second(rate: object, kb: int) -> None:
    assert rate_kb(rate) == kb  # type: ignore[arg-type]


# Toxiproxy's rate is whole KB/s and 0 means unlimited: these used to be rounded, to a cap a
# third off (1.5 KB/s became 2) or to 0, a "bandwidth limit" that limits nothing.
@pytest.mark.parametrize(("rate", "message"), [
    ("500 B/s", "at least 1 KB/s, got '500 B/s' (0.5 KB/s)"),
    ("0.5", "at least 1 KB/s, got '0.5' (0.5 KB/s)"),
    (0, "at least 1 KB/s, got 0 (0 KB/s)"),
    ("1500b/s", "a whole number of KB/s, got '1500b/s' (1.5 KB/s)"),
    ("64.4 KB/s", "a whole number of KB/s, got '64.4 KB/s' (64.4 KB/s)"),
])
def test_a_rate_toxiproxy_cannot_express_is_refused_not_rounded(rate: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        rate_kb(rate)  # type: ignore[arg-type]


def test_bad_rates_and_times_fail_plainly() -> None:
    with pytest.raises(ValueError, match="Expected a rate such as 64"):
        rate_kb("fast")
    with pytest.raises(ValueError, match="rate >= 0"):
        rate_kb(-1)
    with pytest.raises(ValueError, match="time >= 0"):
        milliseconds(timedelta(seconds=-1))
    assert milliseconds(timedelta(milliseconds=1.6)) == 2


def _handle(name: str, port: int) -> ProxyHandle:
    return ProxyHandle(name, f"ws://127.0.0.1:{port}/x", f"127.0.0.1:{port}", "127.0.0.1:1", "ws://t/",
                       InProcessBackend())


def test_a_proxy_is_found_by_name_or_by_the_url_a_client_was_given() -> None:
    proxies: Registry[ProxyHandle] = Registry("proxy")
    a, b = _handle("a", 4001), _handle("b", 4002)
    proxies.add("a", a)
    proxies.add("b", b)
    assert find_proxy(proxies, "b") is b
    assert find_proxy(proxies, "ws://127.0.0.1:4001/other/path?q=1") is a
    with pytest.raises(ValueError, match=r"^No proxy named 'c'; known: a, b\.$"):
        find_proxy(proxies, "c")


def test_same_endpoint_compares_host_and_port_only() -> None:
    assert same_endpoint("ws://127.0.0.1:80/a", "wss://127.0.0.1:80/b?x=1")
    assert not same_endpoint("ws://127.0.0.1:80/a", "ws://127.0.0.1:81/a")
    assert not same_endpoint("ws://127.0.0.1:80/a", "not a url")
