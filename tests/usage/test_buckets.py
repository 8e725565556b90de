"""SPEC §2.8: ranges, buckets and timezones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from botbill.kit.instants import HOUR, MINUTE, SLOT, Micros, from_micros, to_micros
from botbill.usage.buckets import (
    Granularity,
    RangeError,
    RangeKind,
    Window,
    bucket_index,
    local_iso,
    window,
)

NOW = to_micros(datetime(2026, 3, 10, 14, 37, 12, tzinfo=UTC))
"""A Tuesday, two days after New York moved its clocks forward."""


def starts(w: Window) -> list[str]:
    return [local_iso(b.start, w.tz) for b in w.buckets]


def lengths(w: Window) -> list[Micros]:
    return [b.end - b.start for b in w.buckets]


def custom(tz: str, first: date, last: date, granularity: Granularity = Granularity.DAY) -> Window:
    return window(
        range=RangeKind.CUSTOM,
        tz=tz,
        now=NOW,
        granularity=granularity,
        from_date=first,
        to_date=last,
    )


# --- fixed windows -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "start", "end"),
    [
        ("UTC", "2026-03-09T15:00:00+00:00", "2026-03-10T15:00:00+00:00"),
        ("Asia/Kolkata", "2026-03-09T21:00:00+05:30", "2026-03-10T21:00:00+05:30"),
        ("Asia/Kathmandu", "2026-03-09T21:00:00+05:45", "2026-03-10T21:00:00+05:45"),
        ("America/New_York", "2026-03-09T11:00:00-04:00", "2026-03-10T11:00:00-04:00"),
    ],
)
def test_24h_ends_with_the_current_local_hour(tz: str, start: str, end: str) -> None:
    w = window(range=RangeKind.LAST_24_HOURS, tz=tz, now=NOW)
    assert w.granularity is Granularity.HOUR
    assert (local_iso(w.start, tz), local_iso(w.end, tz)) == (start, end)
    assert lengths(w) == [HOUR] * 24
    assert w.buckets[-1].start <= NOW < w.buckets[-1].end


def test_kathmandu_hours_start_at_a_quarter_past_utc() -> None:
    w = window(range=RangeKind.LAST_24_HOURS, tz="Asia/Kathmandu", now=NOW)
    assert {b.start % HOUR for b in w.buckets} == {15 * MINUTE}


def test_24h_across_spring_forward_is_24_real_hours() -> None:
    now = to_micros(datetime(2026, 3, 8, 12, 30, tzinfo=UTC))
    w = window(range=RangeKind.LAST_24_HOURS, tz="America/New_York", now=now)
    assert (local_iso(w.start, w.tz), local_iso(w.end, w.tz)) == (
        "2026-03-07T08:00:00-05:00",
        "2026-03-08T09:00:00-04:00",
    )
    assert lengths(w) == [HOUR] * 24


def test_24h_by_day_clips_to_the_window() -> None:
    w = window(range=RangeKind.LAST_24_HOURS, tz="UTC", now=NOW, granularity=Granularity.DAY)
    assert starts(w) == ["2026-03-09T15:00:00+00:00", "2026-03-10T00:00:00+00:00"]
    assert local_iso(w.end, w.tz) == "2026-03-10T15:00:00+00:00"


@pytest.mark.parametrize(
    ("range_", "tz", "start", "end"),
    [
        (RangeKind.LAST_7_DAYS, "UTC", "2026-03-04T00:00:00+00:00", "2026-03-11T00:00:00+00:00"),
        (
            RangeKind.LAST_7_DAYS,
            "Asia/Kathmandu",
            "2026-03-04T00:00:00+05:45",
            "2026-03-11T00:00:00+05:45",
        ),
        (
            RangeKind.LAST_7_DAYS,
            "America/New_York",
            "2026-03-04T00:00:00-05:00",
            "2026-03-11T00:00:00-04:00",
        ),
        (
            RangeKind.LAST_30_DAYS,
            "Asia/Kolkata",
            "2026-02-09T00:00:00+05:30",
            "2026-03-11T00:00:00+05:30",
        ),
        (RangeKind.LAST_30_DAYS, "UTC", "2026-02-09T00:00:00+00:00", "2026-03-11T00:00:00+00:00"),
    ],
)
def test_last_days_include_today(range_: RangeKind, tz: str, start: str, end: str) -> None:
    w = window(range=range_, tz=tz, now=NOW)
    days = 7 if range_ is RangeKind.LAST_7_DAYS else 30
    assert w.granularity is Granularity.DAY
    assert (local_iso(w.start, tz), local_iso(w.end, tz)) == (start, end)
    assert len(w.buckets) == days
    assert all("T00:00:00" in local for local in starts(w))


def test_a_day_lasts_from_local_midnight_to_local_midnight() -> None:
    w = window(range=RangeKind.LAST_7_DAYS, tz="America/New_York", now=NOW)
    assert lengths(w) == [24 * HOUR] * 4 + [23 * HOUR] + [24 * HOUR] * 2


def test_7d_by_hour_has_every_real_hour() -> None:
    w = window(range=RangeKind.LAST_7_DAYS, tz="America/New_York", now=NOW, granularity="hour")
    assert len(w.buckets) == 7 * 24 - 1


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        ("America/New_York", date(2026, 3, 8), 23),
        ("America/New_York", date(2026, 11, 1), 25),
        ("Europe/Berlin", date(2026, 3, 29), 23),
        ("Europe/Berlin", date(2026, 10, 25), 25),
        ("Asia/Kolkata", date(2026, 3, 29), 24),
    ],
)
def test_dst_days_have_23_or_25_hours(tz: str, day: date, hours: int) -> None:
    w = custom(tz, day, day, Granularity.HOUR)
    assert len(w.buckets) == hours
    assert lengths(w) == [HOUR] * hours
    assert w.end - w.start == hours * HOUR


def test_repeated_hour_is_two_buckets() -> None:
    w = custom("America/New_York", date(2026, 11, 1), date(2026, 11, 1), Granularity.HOUR)
    assert starts(w)[:4] == [
        "2026-11-01T00:00:00-04:00",
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T02:00:00-05:00",
    ]


def test_day_without_a_midnight_starts_when_the_clocks_jump() -> None:
    # Santiago moves from 00:00 to 01:00 on the first Sunday of September.
    w = custom("America/Santiago", date(2026, 9, 6), date(2026, 9, 6))
    assert local_iso(w.start, w.tz) == "2026-09-06T01:00:00-03:00"
    assert lengths(w) == [23 * HOUR]


def test_a_skipped_local_day_is_an_empty_bucket() -> None:
    # Samoa skipped 2011-12-30 when it crossed the date line.
    w = custom("Pacific/Apia", date(2011, 12, 29), date(2011, 12, 31))
    assert lengths(w) == [24 * HOUR, 0, 24 * HOUR]


def test_weeks_start_on_monday_and_clip() -> None:
    w = custom("UTC", date(2026, 3, 4), date(2026, 3, 20), Granularity.WEEK)
    assert starts(w) == [
        "2026-03-04T00:00:00+00:00",
        "2026-03-09T00:00:00+00:00",
        "2026-03-16T00:00:00+00:00",
    ]
    assert local_iso(w.end, w.tz) == "2026-03-21T00:00:00+00:00"


def test_months_are_calendar_months_and_clip() -> None:
    w = custom("Asia/Kolkata", date(2025, 11, 20), date(2026, 3, 10), Granularity.MONTH)
    assert starts(w) == [
        "2025-11-20T00:00:00+05:30",
        "2025-12-01T00:00:00+05:30",
        "2026-01-01T00:00:00+05:30",
        "2026-02-01T00:00:00+05:30",
        "2026-03-01T00:00:00+05:30",
    ]
    assert local_iso(w.end, w.tz) == "2026-03-11T00:00:00+05:30"


def test_limits_that_are_allowed() -> None:
    assert len(custom("UTC", date(2025, 1, 1), date(2026, 1, 1)).buckets) == 366
    assert len(custom("UTC", date(2026, 3, 1), date(2026, 3, 7), Granularity.HOUR).buckets) == 168


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"range": "1y"}, "range"),
        ({"range": "7d", "granularity": "minute"}, "granularity"),
        ({"range": "30d", "granularity": "hour"}, "granularity"),
        ({"range": "custom", "to_date": date(2026, 3, 1)}, "from"),
        ({"range": "custom", "from_date": date(2026, 3, 1)}, "to"),
        ({"range": "custom", "from_date": date(2026, 3, 2), "to_date": date(2026, 3, 1)}, "to"),
        ({"range": "custom", "from_date": date(2025, 1, 1), "to_date": date(2026, 1, 2)}, "to"),
        (
            {
                "range": "custom",
                "from_date": date(2026, 3, 1),
                "to_date": date(2026, 3, 8),
                "granularity": "hour",
            },
            "granularity",
        ),
        ({"range": "24h", "from_date": date(2026, 3, 1)}, "from"),
        ({"range": "7d", "to_date": date(2026, 3, 1)}, "to"),
        ({"range": "24h", "tz": "Mars/Olympus_Mons"}, "tz"),
        ({"range": "24h", "tz": ""}, "tz"),
        ({"range": "24h", "tz": "../../etc/passwd"}, "tz"),
    ],
)
def test_bad_queries_name_their_field(query: dict[str, Any], field: str) -> None:
    with pytest.raises(RangeError) as refused:
        window(**{"tz": "UTC", "now": NOW, **query})
    assert refused.value.field == field
    assert str(refused.value)


@pytest.mark.parametrize(
    ("instant", "tz", "rendered"),
    [
        (datetime(2026, 11, 20, 18, 30, tzinfo=UTC), "Asia/Kolkata", "2026-11-21T00:00:00+05:30"),
        (datetime(2026, 11, 20, 18, 30, tzinfo=UTC), "UTC", "2026-11-20T18:30:00+00:00"),
        (
            datetime(2026, 11, 20, 18, 30, 0, 1, tzinfo=UTC),
            "America/New_York",
            "2026-11-20T13:30:00.000001-05:00",
        ),
    ],
)
def test_local_iso(instant: datetime, tz: str, rendered: str) -> None:
    assert local_iso(to_micros(instant), tz) == rendered


def test_bucket_index_maps_slots() -> None:
    w = window(range=RangeKind.LAST_24_HOURS, tz="Asia/Kathmandu", now=NOW)
    index = bucket_index(w)
    first = w.start // SLOT
    assert [index(first + k) for k in (-1, 0, 3, 4, 95, 96)] == [-1, 0, 0, 1, 23, -1]


# --- properties --------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/New_York",
    "Europe/Berlin",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/St_Johns",
    "Asia/Tehran",
]
_now = st.integers(
    to_micros(datetime(2000, 1, 1, tzinfo=UTC)), to_micros(datetime(2037, 12, 31, tzinfo=UTC))
)


@st.composite
def windows(draw: st.DrawFn) -> Window:
    tz = draw(st.sampled_from(ZONES))
    now = draw(_now)
    kind = draw(st.sampled_from(list(RangeKind)))
    if kind is not RangeKind.CUSTOM:
        grains = list(Granularity)
        if kind is RangeKind.LAST_30_DAYS:
            grains.remove(Granularity.HOUR)
        return window(range=kind, tz=tz, now=now, granularity=draw(st.sampled_from(grains)))
    first = draw(st.dates(date(2000, 1, 1), date(2037, 1, 1)))
    days = draw(st.integers(1, 366))
    grains = list(Granularity) if days <= 7 else list(Granularity)[1:]
    return custom(tz, first, first + timedelta(days=days - 1), draw(st.sampled_from(grains)))


@given(w=windows())
def test_buckets_partition_the_window(w: Window) -> None:
    assert w.buckets[0].start == w.start
    assert w.buckets[-1].end == w.end
    assert all(a.end == b.start for a, b in pairwise(w.buckets))
    assert all(b.start < b.end for b in w.buckets)
    assert all(b.start % SLOT == 0 and b.end % SLOT == 0 for b in w.buckets)
    if w.granularity is Granularity.HOUR:
        assert all(b.end - b.start <= HOUR for b in w.buckets)
    if w.range is RangeKind.LAST_24_HOURS and w.granularity is Granularity.HOUR:
        assert len(w.buckets) == 24


@given(w=windows())
def test_day_buckets_start_on_consecutive_local_dates(w: Window) -> None:
    assume(w.granularity is Granularity.DAY and w.range is not RangeKind.LAST_24_HOURS)
    zone = ZoneInfo(w.tz)
    dates = [from_micros(b.start).astimezone(zone).date() for b in w.buckets]
    assert all(b - a == timedelta(days=1) for a, b in pairwise(dates))
    before = [from_micros(b.start - 1).astimezone(zone).date() for b in w.buckets]
    assert all(a < b for a, b in zip(before, dates, strict=True))


@given(w=windows(), data=st.data())
def test_bucket_index_agrees_with_a_linear_scan(w: Window, data: st.DataObject) -> None:
    first, stop = w.start // SLOT, w.end // SLOT
    slots = data.draw(st.lists(st.integers(first - 3, stop + 3), max_size=20))
    index = bucket_index(w)
    for slot in [first - 1, first, stop - 1, stop, *slots]:
        expected = next((i for i, b in enumerate(w.buckets) if b.start <= slot * SLOT < b.end), -1)
        assert index(slot) == expected
