"""Tiny crafted Robot suites for the sign-off tests: real runs, real output.xml files.

Four suites mimic the real ones (one per test ID, criteria in the Documentation, tags, metadata,
figures logged as ``wsr-figures`` tables). Variables switch outcomes: ``FAIL_ZOMBIE`` makes the
AC-007.2 test fail, ``NO_METRICS`` makes the AC-006.2 test skip with a reason. With
``library=True`` every suite also imports ``wsresilience.WebSocketResilience``, as the real
suites do (through resources/target.resource), so the library's listener hooks run too.
:func:`parse_page` reads a sign-off page into an ElementTree to query it structurally.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import robot

from support import REPO
SECRET = "hunter2-s3cr3t"

LIBRARY = '''
from robot.api import logger
from wsresilience.core.evidence.figures import Figure, figure_table


def log_figure(name, value, unit, comparison, threshold, criterion=""):
    """Log one figure the way the real libraries do."""
    figure = Figure(name, float(value), unit, float(threshold), comparison, criterion)
    logger.info(figure_table([figure]), html=True)
'''

COMMON = """*** Settings ***
Library    FigureLog.py
Metadata    Target    ws://qa:{secret}@127.0.0.1:8765/ws?token={secret}
Metadata    Server version    refserver 0.1.0
Metadata    Library version    0.1.0
"""

SUITES = {
    "heartbeat.robot": COMMON
    + """Metadata    Test ID    WS-RESILIENCE-007
Metadata    Thresholds    RTT p95 < 100 ms; close within interval + timeout + 250 ms
Documentation    Heartbeat validation.
...
...    | =Criterion= | =Requirement= |
...    | AC-007.1 | A responsive client stays connected for at least 5 server ping intervals. |
...    | AC-007.2 | A client that stops answering pings is closed within *interval + timeout + 250 ms*. |

*** Variables ***
${FAIL_ZOMBIE}    ${False}

*** Test Cases ***
Responsive Client Stays Connected
    [Tags]    WS-RESILIENCE-007    AC-007.1
    Log Figure    RTT p95    3.2    ms    <    100    AC-007.1
    Log Figure    pings answered    12    count    >=    5

Zombie Client Is Terminated
    [Tags]    WS-RESILIENCE-007    AC-007.2    slow
    Log Figure    close after silence    1.1    s    <=    1.25    AC-007.2
    Log Figure    unrelated RTT    7    ms    <    100    AC-007.1
    IF    ${FAIL_ZOMBIE}    Fail    Zombie was not closed within 1.25 s: still open after 3.75 s
""",
    "flapping.robot": COMMON
    + """Metadata    Test ID    WS-RESILIENCE-006
Metadata    Thresholds    success rate >= 99 %
Documentation    Rapid reconnection.
...
...    | AC-006.1 | Connection success rate at least 99 %. |
...    | AC-006.2 | Open-connection count back to baseline. |

*** Variables ***
${NO_METRICS}    ${False}

*** Test Cases ***
Flapping Clients Connect
    [Tags]    WS-RESILIENCE-006    AC-006.1
    Log Figure    success rate    100    %    >=    99

Connections Return To Baseline
    [Tags]    WS-RESILIENCE-006    AC-006.2    needs-metrics
    Skip If    ${NO_METRICS}    Target has no metrics endpoint (METRICS_URL unset)
    Log Figure    open connections above baseline    0    count    ==    0
""",
    "resume.robot": COMMON
    + """Metadata    Test ID    WS-RESILIENCE-002
Documentation    Mid-stream resume.
...
...    | AC-002.1 | Text stream cut and resumed: no gap, no duplicate. |

*** Test Cases ***
Text Stream Resumes Intact
    [Tags]    WS-RESILIENCE-002    AC-002.1
    Log Figure    resume latency    40    ms    <    500
""",
    "context.robot": COMMON
    + """Metadata    Test ID    WS-RESILIENCE-001
Documentation    Reconnection preserves context.
...
...    | AC-001.1 | History and agent state identical after reconnect. |

*** Test Cases ***
History Survives Reconnect
    [Tags]    WS-RESILIENCE-001    AC-001.1
    Log Figure    history entries lost    0    count    ==    0
""",
}


WITH_LIBRARY = "Library    wsresilience.WebSocketResilience\n"


def write_suites(directory: Path, names: tuple[str, ...] | None = None, library: bool = False) -> Path:
    """Write the crafted suites (all, or the named ones) and their library into ``directory``.

    ``library``: each suite also imports ``wsresilience.WebSocketResilience``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "FigureLog.py").write_text(LIBRARY)
    for name, text in SUITES.items():
        if names is None or name in names:
            if library:
                text = text.replace("Library    FigureLog.py\n", f"Library    FigureLog.py\n{WITH_LIBRARY}", 1)
            (directory / name).write_text(text.replace("{secret}", SECRET))
    return directory


def run_robot(
    tmp: Path, *, names: tuple[str, ...] | None = None, pythonpath: tuple[str, ...] = (), library: bool = False,
    **options: object,
) -> Path:
    """Run the suites with ``robot.run`` into ``tmp/out``; return the output.xml path."""
    suites = write_suites(tmp / "suites", names, library)
    out = tmp / "out"
    robot.run(str(suites), outputdir=str(out), pythonpath=[str(REPO), str(suites), *pythonpath],
              console="none", **options)
    return out / "output.xml"


def run_pabot(tmp: Path, *extra: str, names: tuple[str, ...] = ("heartbeat.robot", "flapping.robot"),
              fail_zombie: bool = True, library: bool = False) -> Path:
    """Run two suites with pabot (2 processes) into ``tmp/out`` and return its merged output.xml.

    ``--no-pabotlib`` always: the suites take no locks, and PabotLib's port 8270 may be held by
    another pabot run on the machine. ``fail_zombie`` makes the AC-007.2 test fail; ``library`` as for :func:`write_suites`.
    What pabot printed is kept in ``tmp/pabot-console.txt``.
    """
    suites = write_suites(tmp / "suites", names, library)
    out = tmp / "out"
    command = [
        sys.executable, "-m", "pabot.pabot", "--no-pabotlib", "--processes", "2", *extra, "--outputdir", str(out),
        "--pythonpath", str(REPO), "--pythonpath", str(suites), "--variable", f"FAIL_ZOMBIE:{fail_zombie}",
        str(suites),
    ]
    completed = subprocess.run(command, cwd=tmp, capture_output=True, text=True, timeout=120)
    (tmp / "pabot-console.txt").write_text(completed.stdout + completed.stderr, encoding="utf-8")
    assert (out / "output.xml").is_file(), completed.stdout + completed.stderr
    return out / "output.xml"


VOID = {"br", "meta", "link", "img", "hr", "input", "col", "wbr"}


class _TreeBuilder(HTMLParser):
    """Just enough HTML → ElementTree to query our own page structurally."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = ET.Element("document")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = ET.SubElement(self.stack[-1], tag, {k: v or "" for k, v in attrs})
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        parent = self.stack[-1]
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + data
        else:
            parent.text = (parent.text or "") + data


def parse_page(path: Path) -> ET.Element:
    builder = _TreeBuilder()
    builder.feed(path.read_text(encoding="utf-8"))
    builder.close()
    return builder.root
