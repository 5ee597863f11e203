"""The WS-RESILIENCE-001 suite against the healthy reference server and every seeded defect.

Each defect must fail every test tagged with the criteria docs/acceptance.md says it breaks.
Defects that corrupt the context itself (``lose-history``, ``drop-last-message``) break every
test that compares a context after a reconnect, which is nearly all of them; the others must
leave every other criterion passing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.context_runs import run_suite, outcomes, verdicts

ALL = {f"AC-001.{i}" for i in range(1, 9)}

#: defect: (criteria docs/acceptance.md says it breaks, criteria that must still pass)
DEFECTS = {
    "lose-history": ({"AC-001.1"}, set()),
    "drop-last-message": ({"AC-001.1"}, set()),
    "ignore-session-owner": ({"AC-001.5"}, ALL - {"AC-001.5"}),
    "accept-expired-token": ({"AC-001.5"}, ALL - {"AC-001.5"}),
    "no-persistence": ({"AC-001.7"}, ALL - {"AC-001.7"}),
    "concurrent-resume-race": ({"AC-001.6"}, ALL - {"AC-001.6"}),
    "leak-session-in-refusal": ({"AC-001.5"}, ALL - {"AC-001.5"}),
    "reword-agent-replies": ({"AC-001.1", "AC-001.4"}, set()),
    "stage-after-step": ({"AC-001.1", "AC-001.4"}, set()),
}

#: defect: (criteria it also fails, beyond those it breaks, and why)
KNOCK_ONS = {
    "reword-agent-replies": (ALL - {"AC-001.1", "AC-001.4"},
                             "every test holds a conversation first, and every reply is checked against "
                             "docs/protocol.md 7.2 as it arrives"),
    "stage-after-step": (ALL - {"AC-001.1", "AC-001.4"},
                         "the standard conversation every test holds has plain messages, whose replies name "
                         "the stage; the first one already names the wrong stage"),
}


def _explain(outdir: Path) -> str:
    return "\n".join(f"{status} {name}: {message[:200]}" for name, (status, message) in outcomes(outdir).items())


def test_healthy_server_passes_every_criterion(tmp_path: Path) -> None:
    run = run_suite(tmp_path)
    found = verdicts(tmp_path)
    assert set(found) == ALL, _explain(tmp_path)
    assert all(statuses == {"PASS"} for statuses in found.values()), _explain(tmp_path)
    assert run.returncode == 0


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_each_defect_fails_the_criteria_it_breaks(tmp_path: Path, defect: str) -> None:
    breaks, still_pass = DEFECTS[defect]
    run_suite(tmp_path, defect)
    found = verdicts(tmp_path)
    knock_on, reason = KNOCK_ONS.get(defect, (set(), ""))
    for criterion in breaks:
        assert found[criterion] == {"FAIL"}, f"{defect} should fail every {criterion} test:\n{_explain(tmp_path)}"
    for criterion in knock_on:
        assert found[criterion] == {"FAIL"}, f"{defect} should fail {criterion} ({reason}):\n{_explain(tmp_path)}"
    for criterion in still_pass:
        assert found[criterion] == {"PASS"}, f"{defect} should leave {criterion} passing:\n{_explain(tmp_path)}"


@pytest.mark.parametrize("defect", ["", "concurrent-resume-race"])
def test_pabot_testlevelsplit_gives_the_same_verdicts(tmp_path: Path, defect: str) -> None:
    """Every test in its own process with its own server: same verdicts as a plain robot run."""
    run_suite(tmp_path / "robot", defect)
    run_suite(tmp_path / "pabot", defect, pabot=True)
    assert verdicts(tmp_path / "pabot") == verdicts(tmp_path / "robot"), _explain(tmp_path / "pabot")


def test_an_external_target_skips_with_the_reason(tmp_path: Path) -> None:
    """With WS_URL naming a plain echo service, no test passes: each ends SKIP and says why."""
    import asyncio
    import threading

    from websockets.asyncio.server import serve

    ready = threading.Event()
    stop: list[asyncio.AbstractEventLoop] = []
    port: list[int] = []

    async def echo(ws):  # type: ignore[no-untyped-def]
        async for message in ws:
            await ws.send(message)

    async def main() -> None:
        async with serve(echo, "127.0.0.1", 0) as server:
            port.append(server.sockets[0].getsockname()[1])
            stop.append(asyncio.get_running_loop())
            ready.set()
            await asyncio.Future()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert ready.wait(5)
    run_suite(tmp_path, "", "--variable", f"WS_URL:ws://127.0.0.1:{port[0]}/")
    found = verdicts(tmp_path)
    assert all(statuses == {"SKIP"} for statuses in found.values()), _explain(tmp_path)
    assert all("need test users" in m or "session protocol" in m for _, m in outcomes(tmp_path).values())
