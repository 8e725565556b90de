"""The local days a seat touches, in the workspace's timezone (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from botbill.kit.days import days_touched
from botbill.kit.instants import DAY, HOUR, to_micros


def at(text: str) -> int:
    return to_micros(datetime.fromisoformat(text).astimezone(UTC))


def test_a_seat_within_one_day_touches_that_day() -> None:
    days = days_touched(at("2026-11-26T09:00:00Z"), at("2026-11-26T17:00:00Z"), "UTC")
    assert days == [(at("2026-11-26T00:00:00Z"), at("2026-11-27T00:00:00Z"))]


def test_days_are_local_and_the_end_is_exclusive() -> None:
    # 20:00 to 00:00 Kolkata time: one local day, even though UTC sees it as one too.
    start, end = at("2026-11-26T20:00:00+05:30"), at("2026-11-27T00:00:00+05:30")
    assert days_touched(start, end, "Asia/Kolkata") == [
        (at("2026-11-26T00:00:00+05:30"), at("2026-11-27T00:00:00+05:30"))
    ]
    # One microsecond past midnight touches the next day too.
    assert len(days_touched(start, end + 1, "Asia/Kolkata")) == 2


def test_a_dst_day_is_25_hours_long() -> None:
    start, end = at("2026-11-01T09:00:00-05:00"), at("2026-11-01T10:00:00-05:00")
    [(d0, d1)] = days_touched(start, end, "America/New_York")
    assert d0 == at("2026-11-01T00:00:00-04:00")
    assert d1 - d0 == 25 * HOUR


def test_an_empty_interval_touches_nothing() -> None:
    instant = at("2026-11-26T09:00:00Z")
    assert days_touched(instant, instant, "UTC") == []


@given(
    start=st.integers(at("2026-01-01T00:00:00Z"), at("2026-12-31T00:00:00Z")),
    length=st.integers(1, 40 * DAY),
    tz=st.sampled_from(["UTC", "Asia/Kathmandu", "America/New_York", "Europe/Berlin"]),
)
def test_the_days_cover_the_interval_back_to_back(start: int, length: int, tz: str) -> None:
    days = days_touched(start, start + length, tz)
    assert days[0][0] <= start < days[0][1]
    assert days[-1][0] < start + length <= days[-1][1]
    assert all(a[1] == b[0] for a, b in pairwise(days))
    assert all(23 * HOUR <= d1 - d0 <= 25 * HOUR for d0, d1 in days)
