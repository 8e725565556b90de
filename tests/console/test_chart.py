"""The Usage graph as inline SVG, rendered from plain values (no server, no browser)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from botbill.console.chart import ChartPoint, nice_scale, usage_chart
from botbill.console.usage_view import bucket_label, chart_points, granularities
from botbill.usage.buckets import Granularity, RangeKind
from botbill.usage.schemas import UsagePoint

SVG = "{http://www.w3.org/2000/svg}"

POINTS = [
    ChartPoint(date="2026-11-21", sessions=120, voice_sessions=7, agents=3),
    ChartPoint(date="2026-11-22", sessions=0, voice_sessions=0, agents=0),
    ChartPoint(date="2026-11-23", sessions=1_234, voice_sessions=56, agents=4),
]


def tooltips(svg: str) -> list[list[str]]:
    """Each point's tooltip as its lines of text, in bucket order."""
    root = ET.fromstring(svg)
    return [
        ["".join(text.itertext()) for text in group.iter(f"{SVG}text")]
        for group in root.iter(f"{SVG}g")
        if group.get("class") == "point"
    ]


def test_each_point_has_a_focusable_tooltip_with_its_four_values() -> None:
    svg = usage_chart(POINTS, title="Usage, last 7 days")
    assert tooltips(svg) == [
        ["Date2026-11-21", "Sessions120", "Voice Sessions7", "Agents3"],
        ["Date2026-11-22", "Sessions0", "Voice Sessions0", "Agents0"],
        ["Date2026-11-23", "Sessions1,234", "Voice Sessions56", "Agents4"],
    ]
    root = ET.fromstring(svg)
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "point"]
    assert all(g.get("tabindex") == "0" for g in groups)
    titles = [g.findtext(f"{SVG}title") for g in groups]
    assert titles[0] == "Date: 2026-11-21, Sessions: 120, Voice Sessions: 7, Agents: 3"


def test_the_three_lines_follow_their_series() -> None:
    root = ET.fromstring(usage_chart(POINTS, title="t"))
    lines = {
        g.get("class"): g.find(f"{SVG}polyline")
        for g in root.iter(f"{SVG}g")
        if (g.get("class") or "").startswith("series")
    }
    assert set(lines) == {"series s-sessions", "series s-voice", "series s-agents"}
    sessions = lines["series s-sessions"]
    assert sessions is not None
    heights = [float(pair.split(",")[1]) for pair in (sessions.get("points") or "").split()]
    # SVG's y grows downwards: the busiest day is the highest point, an empty day the lowest.
    assert heights[2] < heights[0] < heights[1]


def test_labels_are_escaped() -> None:
    svg = usage_chart(
        [ChartPoint(date="<b>&", sessions=1, voice_sessions=0, agents=0)], title="a & b"
    )
    ET.fromstring(svg)  # well-formed
    assert "<b>" not in svg


def test_an_empty_series_is_an_empty_graph() -> None:
    svg = usage_chart([], title="nothing")
    assert tooltips(svg) == []
    ET.fromstring(svg)


def test_nice_scale_examples() -> None:
    assert nice_scale(0) == nice_scale(1)
    assert nice_scale(120).ticks == (0, 50, 100, 150)
    assert nice_scale(1_234).top == 1_500
    assert nice_scale(4).ticks == (0, 1, 2, 3, 4)


@given(st.integers(min_value=0, max_value=10**12))
def test_nice_scale_holds_the_largest_value_in_a_few_round_steps(largest: int) -> None:
    scale = nice_scale(largest)
    step = scale.ticks[1]
    assert scale.top >= largest
    assert scale.ticks[0] == 0
    assert scale.ticks[-1] == scale.top
    assert 2 <= len(scale.ticks) <= 6
    assert re.fullmatch(r"[125]0*", str(step))


def point(start: str, sessions: int = 1) -> UsagePoint:
    return UsagePoint(
        start=start,
        end=start,
        billing_sessions=sessions,
        usage_sessions=sessions,
        alert_sessions=0,
        voice_sessions=0,
        agents=0,
    )


def test_the_date_is_the_local_date_and_the_hour_for_hourly_buckets() -> None:
    assert bucket_label("2026-11-21T00:00:00+05:30", Granularity.DAY) == "2026-11-21"
    assert bucket_label("2026-11-21T14:00:00+05:45", Granularity.HOUR) == "2026-11-21 14:00"
    assert bucket_label("2026-11-16T00:00:00-05:00", Granularity.WEEK) == "2026-11-16"


def test_an_hour_that_happens_twice_is_told_apart_by_its_offset() -> None:
    series = [
        point("2026-11-01T00:00:00-04:00"),
        point("2026-11-01T01:00:00-04:00"),
        point("2026-11-01T01:00:00-05:00"),
        point("2026-11-01T02:00:00-05:00"),
    ]
    dates = [p.date for p in chart_points(series, Granularity.HOUR)]
    assert dates == [
        "2026-11-01 00:00",
        "2026-11-01 01:00 (UTC-04:00)",
        "2026-11-01 01:00 (UTC-05:00)",
        "2026-11-01 02:00",
    ]


def test_granularities_offered_per_range() -> None:
    assert granularities(RangeKind.LAST_24_HOURS) == (Granularity.HOUR,)
    assert Granularity.HOUR not in granularities(RangeKind.LAST_30_DAYS)
    assert granularities(RangeKind.CUSTOM) == tuple(Granularity)
