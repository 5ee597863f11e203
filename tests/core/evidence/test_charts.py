"""Unit tests of the inline SVG charts: well-formed, escaped, thresholds drawn, empty input safe."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from wsresilience.core.evidence.charts import Lane, histogram, line_chart, resume_chart, timeline_chart
from wsresilience.core.evidence.svg import nice_ticks, stagger
from wsresilience.core.stats import percentile

from support.chart_samples import heartbeat_lanes, sample_charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def dashed_lines(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}line") if e.get("stroke-dasharray")]


@pytest.mark.parametrize("name", ["timeline", "timeline50", "line", "histogram", "resume"])
def test_every_chart_is_well_formed_with_title_and_size(name: str) -> None:
    root = parse(sample_charts()[name])
    assert root.find(f"{SVG}title").text
    assert 600 <= int(root.get("width")) <= 800
    assert 60 <= int(root.get("height")) <= 900
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"


def test_text_is_escaped_everywhere() -> None:
    evil = "<script>alert('x')</script> & \"q\""
    charts = [
        timeline_chart([Lane(evil, [(0, 1, evil)], [(0.5, evil, evil)])], evil, marks=[(0.5, evil)]),
        line_chart({evil: [(0, 1), (1, 2)]}, evil, evil, evil, thresholds=[(1.5, evil)]),
        histogram([1, 2, 3], evil, evil, thresholds=[(2, evil)]),
        resume_chart([(0, 1, evil)], evil, marks=[(0, evil)]),
    ]
    for svg in charts:
        assert "<script>" not in svg
        root = parse(svg)
        assert evil in root.find(f"{SVG}title").text
        assert not list(root.iter(f"{SVG}script")) and not list(root.iter("script"))


def test_timeline_draws_states_events_legend_and_marks() -> None:
    root = parse(timeline_chart(heartbeat_lanes(3), "hb", marks=[(2.25, "bound 2.25 s")]))
    labels = texts(root)
    for expected in ("CONNECTING", "OPEN", "SILENT", "TERMINATED (server ended it)", "CLOSED (socket closed)", "close", "pong suppressed",
                     "conn-01", "conn-03", "bound 2.25 s", "time (s)"):
        assert expected in labels
    tips = [t.text for t in root.iter(f"{SVG}title")]
    assert any("conn-02: SILENT" in (tip or "") for tip in tips)
    assert len(dashed_lines(root)) == 1


def test_timeline_t0_shifts_times() -> None:
    root = parse(timeline_chart([Lane("c", [(1000.0, 1002.0, "OPEN")])], "t", t0=1000.0))
    tips = [t.text or "" for t in root.iter(f"{SVG}title")]
    assert "c: OPEN 0–2 s" in tips


def test_fifty_lanes_stay_within_a_sane_height_and_are_all_labelled() -> None:
    root = parse(timeline_chart(heartbeat_lanes(50), "load", marks=[(2.25, "bound")]))
    assert int(root.get("height")) <= 700
    labels = texts(root)
    assert all(f"conn-{i:02d}" in labels for i in range(1, 51))


def test_crowded_lanes_thin_routine_markers_but_keep_close_events() -> None:
    events = [(i * 0.01, "ping received", "") for i in range(500)] + [(5.0, "close", "close 1011")]
    root = parse(timeline_chart([Lane("busy", [(0, 5, "OPEN")], events)], "busy", max_markers_per_lane=40))
    markers = [g for g in root.iter(f"{SVG}g") if (g.findtext(f"{SVG}title") or "").startswith("busy:")]
    assert len(markers) == 40
    assert any("close 1011" in g.findtext(f"{SVG}title") for g in markers)
    assert any("thinned" in t for t in texts(root))


def test_line_chart_thresholds_and_right_axis() -> None:
    svg = line_chart(
        {"connections": [(0, 10), (1, 4), (2, 10)], "RSS": [(0, 30), (1, 31), (2, 31.5)]},
        "flap", "time (s)", "count", thresholds=[(10, "max 10"), (40, "RSS + 10 MB", "right")],
        y2_label="RSS (MB)", y2_series=["RSS"],
    )
    root = parse(svg)
    labels = texts(root)
    # RSS + 10 MB lies far above RSS's 1.5 MB of data: an arrow at the edge, the axis fitted to the data
    assert {"max 10", "RSS + 10 MB (40)", "count", "RSS (MB)", "time (s)", "RSS (right axis)"} <= set(labels)
    thresholds = [g for g in root.iter(f"{SVG}g") if g.get("class") == "threshold"]
    off_scale = [g for g in root.iter(f"{SVG}g") if g.get("class") == "threshold off-scale"]
    assert len(thresholds) == 1 and len(off_scale) == 1
    assert len(list(root.iter(f"{SVG}polyline"))) == 2


def test_histogram_marks_percentiles_and_threshold() -> None:
    values = list(range(1, 101))
    root = parse(histogram(values, "rtt", "ms", bins=10, thresholds=[(90, "p95 < 90 ms")]))
    labels = texts(root)
    assert "p50 50.5" in labels and "p95 95.05" in labels and "p99 99.01" in labels
    assert "p95 < 90 ms" in labels and "value (ms)" in labels
    bars = [r for r in root.iter(f"{SVG}rect") if (r.findtext(f"{SVG}title") or "").endswith(": 10")]
    assert len(bars) == 10


def test_histogram_threshold_far_off_scale_is_named_not_squashing() -> None:
    root = parse(histogram([0.5, 0.6, 0.7, 0.8], "rtt", "ms", thresholds=[(100, "p95 < 100 ms")]))
    assert "p95 < 100 ms (100 ms)" in texts(root)  # the arrow at the edge says where the bound is
    assert [g.get("class") for g in root.iter(f"{SVG}g") if "threshold" in (g.get("class") or "")] == [
        "threshold off-scale"]
    assert all(tick not in texts(root) for tick in ("100", "50"))


def test_resume_chart_kinds_and_marks() -> None:
    chunks = [(0.1, 1, "live"), (0.2, 2, "live"), (1.0, 2, "duplicate"), (1.0, 3, "replayed"), (1.1, 4, "live")]
    root = parse(resume_chart(chunks, "resume", marks=[(0.5, "cut"), (0.9, "reconnect")]))
    labels = texts(root)
    assert {"live (3)", "replayed (1)", "duplicate (1)", "cut", "reconnect", "chunk seq"} <= set(labels)
    assert len(dashed_lines(root)) >= 2


@pytest.mark.parametrize(
    "svg",
    [
        timeline_chart([], "empty timeline"),
        timeline_chart([Lane("c")], "lane without data"),
        line_chart({}, "empty", "t", "y"),
        line_chart({"a": []}, "empty series", "t", "y"),
        histogram([], "empty", "ms"),
        histogram([float("nan")], "only nan", "ms"),
        resume_chart([], "empty"),
    ],
)
def test_empty_input_says_no_data(svg: str) -> None:
    root = parse(svg)
    assert any(t.startswith("no data") for t in texts(root))


def test_single_point_inputs_do_not_divide_by_zero() -> None:
    for svg in (
        histogram([5.0, 5.0], "same", "ms"),
        line_chart({"a": [(1, 1)]}, "one", "t", "y"),
        resume_chart([(1.0, 1, "live")], "one"),
        timeline_chart([Lane("c", [], [(1.0, "ping", "")])], "one"),
    ):
        parse(svg)


def test_helpers() -> None:
    assert nice_ticks(0, 1, 6) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0, 3.1, 8) == [0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert stagger([0, 10, 500], ["long label", "another", "far"]) == [0, 1, 0]


def test_right_axis_min_span_keeps_small_noise_flat() -> None:
    import re as _re

    from wsresilience.core.evidence.charts import line_chart as _line_chart

    series = {"count": [(0, 1), (1, 2)], "RSS (MB)": [(0, 30.4), (1, 30.5)]}
    zoomed = _line_chart(series, "t", "s", "n", y2_label="RSS (MB)", y2_series=["RSS (MB)"])
    steady = _line_chart(series, "t", "s", "n", y2_label="RSS (MB)", y2_series=["RSS (MB)"], y2_min_span=10)
    def ticks(svg: str) -> list[float]:
        return [float(v) for v in _re.findall(r">(\d+(?:\.\d+)?)</text>", svg)]
    assert max(ticks(steady)) >= 40 > max(ticks(zoomed))


def test_resume_chart_writes_a_repeated_mark_label_once() -> None:
    chunks = [(0.1 * s, s, "live") for s in range(1, 30)]
    marks = [(0.5, "cut"), (0.6, "reconnected"), (1.5, "cut"), (1.6, "reconnected"), (2.5, "cut")]
    root = parse(resume_chart(chunks, "cut three times", marks=marks))
    labels = texts(root)
    assert labels.count("cut") == 1 and labels.count("reconnected") == 1
    assert len(dashed_lines(root)) >= 5  # every mark keeps its line
    tips = [t.text for g in root.iter(f"{SVG}g") if g.get("class") == "mark" for t in g.iter(f"{SVG}title")]
    assert "cut at 2.5 s" in tips
