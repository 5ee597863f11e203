"""Every library imports: the seven per-concern views together in one suite, or the one
library alone, and one keyword of each concern runs with no "Multiple keywords" clash.

The views each hold one concern's keywords on a context of their own; their keyword names
never overlap. Against the reference server the suite starts, over real sockets.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import pytest
from robot.libdoc import libdoc

from support.inline_suites import errors, outcomes, run_inline

VIEWS = ("Heartbeat", "Flapping", "ServerResources", "StreamResume", "ContextReconnect", "NetworkFaults",
         "ReferenceServer")
IMPORTS = {
    "every-view": "\n".join(f"Library    wsresilience.{view}" for view in VIEWS),
    "the-one-library": "Library    wsresilience.WebSocketResilience",
}

#: One test per concern, each calling its keywords by their plain names.
SUITE = """*** Settings ***
{imports}
Suite Setup       Start Reference Server
Suite Teardown    Stop Reference Server

*** Test Cases ***
Reference Server
    ${{url}} =    Get Reference Server Url
    Set Suite Variable    ${{URL}}    ${{url}}

Heartbeat
    ${{conn}} =    Open Heartbeat Connection    ${{URL}}
    Wait For Server Pings    ${{conn}}
    Close Heartbeat Connections

Flapping
    Flap Clients    ${{URL}}    clients=2    cycles=2
    Get Connection Success Rate    ==    100

Server Resources
    ${{pid}} =    Get Reference Server Pid
    Configure Server Probes    pid=${{pid}}
    Take Resource Snapshot

Streams
    Connect To Stream Service    ${{URL}}
    Start Stream    s    size=2048    chunk_size=512
    Wait Until Streams Complete    s
    Close Stream Sessions

Conversations
    ${{user}} =    Create Test User
    ${{chat}} =    Start Conversation    ${{URL}}    ${{user}}
    Hold Conversation    ${{chat}}    hello
    Close Conversations

Network Faults
    Create Proxy    ${{URL}}    name=front
    Add Latency    front    5 ms
    Delete Proxy    front
"""


@pytest.mark.parametrize("imports", sorted(IMPORTS))
def test_libraries_import_and_run_one_keyword_of_each_concern(imports: str, tmp_path: Path) -> None:
    rc, result = run_inline(tmp_path, SUITE.format(imports=IMPORTS[imports]))
    found = outcomes(result)
    assert len(found) == 7 and rc == 0, found
    assert all(status == "PASS" for status, _ in found.values()), found
    assert errors(result) == []  # no failed import, no "Multiple keywords with name …"


def _keywords(library: str, directory: Path) -> set[str]:
    out = directory / f"{library}.json"
    assert libdoc(f"wsresilience.{library}", str(out), format="JSON", quiet=True) == 0
    return {k["name"] for k in json.loads(out.read_text())["keywords"]}


def test_view_keyword_names_are_disjoint_and_all_in_the_one_library(tmp_path: Path) -> None:
    views = {view: _keywords(view, tmp_path) for view in VIEWS}
    for (a, kws_a), (b, kws_b) in combinations(views.items(), 2):
        assert not kws_a & kws_b, f"{a} and {b} both have {sorted(kws_a & kws_b)}"
    everything = _keywords("WebSocketResilience", tmp_path)
    missing = set().union(*views.values()) - everything
    assert not missing, f"keywords of a view missing from the one library: {sorted(missing)}"
