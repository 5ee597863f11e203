"""The flapping and server resources components on a shared context, without a server.

What a suite would need a server for is stood in for: a probe that reads scripted
snapshots, a flapping result built cycle by cycle. The real runs are in
tests/suites/test_006_flapping.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from assertionengine import AssertionOperator
from robot.api import SkipExecution

from wsresilience.components.flapping import FlappingKeywords
from wsresilience.components.server_resources import ServerResourcesKeywords
from wsresilience.context import LibraryContext
from wsresilience.core.flapping.answer import FreshAnswer
from wsresilience.core.flapping.engine import Cycle, FlapPlan, FlapResult
from wsresilience.core.probes.series import MB, Snapshot
from wsresilience.errors import ResilienceFailure
from wsresilience.Flapping import Flapping
from wsresilience.ServerResources import ServerResources


class ScriptedProbe:
    """A configured probe that returns the given snapshots in turn, then the last one forever."""

    configured = True
    metrics = {"connections": "ws_open_connections"}

    def __init__(self, *values: dict[str, float]) -> None:
        self.values = list(values)
        self.reads = 0

    def describe(self) -> str:
        return "scripted probe"

    def snapshot(self, label: str = "") -> Snapshot:
        values = self.values[min(self.reads, len(self.values) - 1)]
        self.reads += 1
        return Snapshot(time.monotonic(), dict(values), {k: "script" for k in values}, label)


@pytest.fixture
def ctx() -> Iterator[LibraryContext]:
    context = LibraryContext()
    yield context
    context.close()


def test_views_are_disjoint_and_every_getter_can_assert() -> None:
    flapping, resources = Flapping(), ServerResources()
    names = set(flapping.get_keyword_names()), set(resources.get_keyword_names())
    assert names[0] and names[1] and not names[0] & names[1]
    for lib in (flapping, resources):
        for name in lib.get_keyword_names():
            args = [a[0] if isinstance(a, tuple) else a for a in lib.get_keyword_arguments(name)]
            if name.startswith("get_"):
                assert {"assertion_operator", "assertion_expected", "message"} <= set(args), name
                assert "Getter" in lib.get_keyword_tags(name), name


def test_one_probe_configuration_serves_both_components(ctx: LibraryContext) -> None:
    ServerResourcesKeywords(ctx).configure_server_probes("http://h:9/metrics", "", "ws://h:8765/")
    assert ctx.probe.metrics_url == "http://h:9/metrics" and ctx.probe.port == 8765
    FlappingKeywords(ctx).use_server_probes("", "4242", "ws://h:1/", "conns")
    assert (ctx.probe.metrics_url, ctx.probe.pid, ctx.probe.metrics["connections"]) == ("", 4242, "conns")


def test_set_flapping_timeout_sets_the_library_timeout(ctx: LibraryContext) -> None:
    old = FlappingKeywords(ctx).set_flapping_timeout(timedelta(seconds=3))
    assert old == "10 seconds" and ctx.timeout == 3


def _result(*causes: str) -> FlapResult:
    """A run with one successful cycle per empty cause and one failed cycle per cause."""
    result = FlapResult(FlapPlan("ws://h/", clients=1, cycles=len(causes)), 0.0, ended=2.0)
    for i, cause in enumerate(causes):
        result.cycles.append(Cycle(0, i, 0.0, handshake_ms=10.0 + i, ok=not cause, cause=cause))
    return result


def test_getters_read_the_last_run_and_assert(ctx: LibraryContext) -> None:
    kw = FlappingKeywords(ctx)
    with pytest.raises(ResilienceFailure, match="No flapping run yet"):
        kw.get_attempt_rate()
    kw._last = _result("", "", "HTTP 503", "HTTP 503")
    assert kw.get_attempt_rate() == 2.0
    assert kw.get_flapping_failures() == {"HTTP 503": 2}
    kw.get_flapping_failures(AssertionOperator["=="], {"HTTP 503": 2})
    with pytest.raises(AssertionError):
        kw.get_flapping_failures(AssertionOperator["=="], {})
    assert kw.get_handshake_latency("max", AssertionOperator["<"], 20) == 13
    with pytest.raises(AssertionError, match=r"got 50.00 % \(2 of 4; failures: HTTP 503 ×2\)"):
        kw.get_connection_success_rate(AssertionOperator[">="], 99)


def test_a_fresh_answer_is_judged_on_text_then_agent() -> None:
    right = FreshAnswer(0.1, {"type": "answer", "text": "You said: hi", "agent_id": "a1"}, "a1")
    assert right.wrong("hi") == ""
    assert right.wrong("ho").startswith("Expected the answer 'You said: ho'; got {\"type\": \"answer\"")
    elsewhere = FreshAnswer(0.1, {"type": "answer", "text": "You said: hi", "agent_id": "a2"}, "a1")
    assert elsewhere.wrong("hi") == "Expected the answer from a1 (named in auth-ok); it came from a2."


def test_agents_are_judged_at_every_sample(ctx: LibraryContext) -> None:
    kw = FlappingKeywords(ctx)
    kw._last, kw._users = _result(""), 2
    kw._samples = [Snapshot(0.0, {"agents": 1}), Snapshot(0.5, {"agents": 3, "agents_per_user_max": 1})]
    assert kw.agent_instances_should_stay_at_one_per_user() == 2
    kw._samples.append(Snapshot(1.0, {"agents": 4, "agents_per_user_max": 2}))
    with pytest.raises(ResilienceFailure, match=r"agent instances, most at any sample = 4 .* at 1.00 s"):
        kw.agent_instances_should_stay_at_one_per_user()
    kw._users = 0
    with pytest.raises(SkipExecution, match="not authenticated"):
        kw.agent_instances_should_stay_at_one_per_user()


def test_resources_back_at_baseline_pass_and_still_off_fail(ctx: LibraryContext) -> None:
    kw = ServerResourcesKeywords(ctx)
    baseline = Snapshot(0.0, {"connections": 2, "fds": 10})
    ctx.probe = ScriptedProbe({"connections": 5, "fds": 12}, {"connections": 2, "fds": 10})  # type: ignore[assignment]
    assert kw.server_resources_should_return_to(baseline, timeout=timedelta(seconds=2)) < 2
    ctx.probe = ScriptedProbe({"connections": 3, "fds": 10})  # type: ignore[assignment]
    with pytest.raises(ResilienceFailure, match=r"still off: connections 3 \(baseline 2\) \(scripted probe\)"):
        kw.server_resources_should_return_to(baseline, timeout=timedelta(milliseconds=100))
    with pytest.raises(SkipExecution, match="exposes none of tasks"):
        kw.server_resources_should_return_to(baseline, "tasks")


def test_counts_and_settling_skip_when_not_exposed(ctx: LibraryContext) -> None:
    kw = ServerResourcesKeywords(ctx)
    with pytest.raises(SkipExecution, match="no metrics endpoint .* cannot be counted"):
        kw.get_open_connection_count()
    ctx.probe = ScriptedProbe({"fds": 3})  # type: ignore[assignment]
    with pytest.raises(SkipExecution, match="Cannot count the server's connections: scripted probe"):
        kw.open_connection_count_should_return_to(0, timedelta(seconds=1))
    with pytest.raises(SkipExecution, match="exposes no agents count"):
        kw.server_resource_should_settle_at("agents", 0, timedelta(milliseconds=50))
    ctx.probe = ScriptedProbe({"connections": 4}, {"connections": 1})  # type: ignore[assignment]
    kw.get_open_connection_count(AssertionOperator["=="], 4)
    assert kw.open_connection_count_should_return_to(1, timedelta(seconds=2)) < 2
    with pytest.raises(ResilienceFailure, match=r"hold 0 open connections .* it still holds 1 \(script\)"):
        kw.open_connection_count_should_return_to(0, timedelta(milliseconds=60))


def test_a_settled_snapshot_waits_for_every_count_not_just_connections(ctx: LibraryContext) -> None:
    """Node closes a socket's descriptor a moment after the TCP connection is gone: a round's
    snapshot taken when the connections are back, but the descriptors not yet, would judge a
    descriptor the server was about to close as a leak."""
    kw = ServerResourcesKeywords(ctx)
    baseline = Snapshot(0.0, {"connections": 0, "fds": 19, "rss_bytes": 50 * MB})
    closing = {"connections": 0, "fds": 20, "rss_bytes": 51 * MB}
    ctx.probe = ScriptedProbe(closing, closing, closing, {"connections": 0, "fds": 19, "rss_bytes": 51 * MB})  # type: ignore[assignment]
    snap = kw.take_settled_resource_snapshot("after round 1", baseline, quiet=timedelta(seconds=5))
    assert snap.get("fds") == 19 and snap.label == "after round 1"
    # A count that stays off (a real leak) is snapshotted once it has been quiet, for the rule to judge.
    ctx.probe = ScriptedProbe({"connections": 0, "fds": 25})  # type: ignore[assignment]
    started = time.monotonic()
    snap = kw.take_settled_resource_snapshot("leaking", baseline, quiet=timedelta(milliseconds=200))
    assert snap.get("fds") == 25 and 0.2 <= time.monotonic() - started < 2


def test_the_leak_rule_passes_a_plateau_and_fails_growth_that_keeps_going(ctx: LibraryContext) -> None:
    kw = ServerResourcesKeywords(ctx)

    def rounds(*mb: float, fds: float = 10) -> list[Snapshot]:
        return [Snapshot(float(i), {"rss_bytes": v * MB, "fds": fds}) for i, v in enumerate(mb)]

    # +3 MB a round (15 KiB per connection of 200), then flat: a plateau.
    kw.resource_growth_should_show_no_leak(rounds(30, 38, 41, 44, 47, 48, 48.2, 48.1, 48.3, 48.2), 200)
    kw.resource_growth_should_show_no_leak(rounds(30, 38, 38.5, 38.2, 38.4, 38.3, 38.4), [200, 180, 200, 200, 190, 200])
    with pytest.raises(ResilienceFailure, match=r"Expected no growth that keeps going after warm-up; rss_bytes per "
                                                r"round \[30, 32, 35, 38, 41, 44, 47\] MB over 1200 connections: .*"
                                                r"sustained 15\.4 KiB per connection \(max 12\)\.$"):
        kw.resource_growth_should_show_no_leak(rounds(30, 32, 35, 38, 41, 44, 47), 200)
    with pytest.raises(ResilienceFailure, match=r"; fds per round \[10, 11, 12, 13, 14, 15, 16\] descriptors over "
                                                r"1200 connections: .* it grew by 5 descriptors"):
        kw.resource_growth_should_show_no_leak([Snapshot(float(i), {"rss_bytes": 30 * MB, "fds": 10 + i})
                                                for i in range(7)], 200, rss_per_connection_max="1 MB")
    with pytest.raises(ValueError, match="at least 5 values after 1 warm-up round"):
        kw.resource_growth_should_show_no_leak(rounds(30, 31, 32, 33, 34), 200)
    with pytest.raises(SkipExecution, match="no resident memory"):
        kw.resource_growth_should_show_no_leak([Snapshot(0.0, {"fds": 1})], 200)
