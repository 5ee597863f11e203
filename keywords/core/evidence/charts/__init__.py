"""Inline SVG charts for log.html: connection timelines, lines over time, histograms, resumes.

Each chart is a pure function returning one ``<svg>`` string, safe to log as HTML::

    from robot.api import logger
    logger.info(histogram(rtts_ms, "Client RTT", "ms", thresholds=[(100, "p95 bound 100 ms")]),
                html=True)

No plotting library is involved: the markup is small, self-contained, prints, and reads the
same in every browser. Every chart has a ``<title>`` (the tooltip and accessible name), axes
labelled with units, a legend, and thresholds as dashed lines with their labels. All text is
escaped. Empty input gives a small chart that says "no data" rather than an exception, so a
keyword can always log its evidence, even after a failure.

Times are seconds. Marks are ``(t_s, label)`` pairs drawn as labelled dashed vertical lines;
thresholds are ``(value, label)`` pairs drawn as dashed lines across the plot.

One module per kind of chart, all built from :mod:`wsresilience.core.evidence.svg`:
:mod:`.timeline` (connection states and events, per lane), :mod:`.line` (series over time),
:mod:`.histogram` (a distribution with its percentiles), :mod:`.resume` (chunks of a
resumed stream) and :mod:`.cycles` (a time per reconnect cycle against its bound); :mod:`.common` holds what they share (the chart width, marks, thresholds).
Import the charts from this package, ``wsresilience.core.evidence.charts``: that is the stable
name, whichever module a chart lives in.
"""

from wsresilience.core.evidence.charts.common import WIDTH, Mark, Threshold
from wsresilience.core.evidence.charts.cycles import Cycle, cycles_chart
from wsresilience.core.evidence.charts.histogram import histogram
from wsresilience.core.evidence.charts.line import line_chart
from wsresilience.core.evidence.charts.resume import CHUNK_COLOURS, resume_chart
from wsresilience.core.evidence.charts.timeline import STATE_COLOURS, Event, Lane, Segment, timeline_chart

__all__ = [
    "CHUNK_COLOURS",
    "Cycle",
    "STATE_COLOURS",
    "WIDTH",
    "Event",
    "Lane",
    "Mark",
    "Segment",
    "Threshold",
    "cycles_chart",
    "histogram",
    "line_chart",
    "resume_chart",
    "timeline_chart",
]
