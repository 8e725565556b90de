"""Subscription periods in the workspace's timezone: monthly from an anchor, or a trial."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botbill.kit.instants import DAY, HOUR, from_micros, to_micros
from botbill.plans.periods import (
    Span,
    add_months,
    month_boundary,
    monthly_index,
    monthly_period,
    trial_period,
)

ZONES = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "Australia/Lord_Howe"]


def at(text: str) -> int:
    return to_micros(datetime.fromisoformat(text))


def local(instant: int, tz: str) -> str:
    return from_micros(instant).astimezone(ZoneInfo(tz)).isoformat()


def test_month_ends_are_clamped_without_drift() -> None:
    anchor = at("2026-01-31T10:00:00+00:00")
    starts = [local(month_boundary(anchor, "UTC", k), "UTC") for k in range(5)]
    assert starts == [
        "2026-01-31T10:00:00+00:00",
        "2026-02-28T10:00:00+00:00",
        "2026-03-31T10:00:00+00:00",
        "2026-04-30T10:00:00+00:00",
        "2026-05-31T10:00:00+00:00",
    ]


def test_leap_february() -> None:
    anchor = at("2027-12-30T00:00:00+00:00")
    assert local(month_boundary(anchor, "UTC", 2), "UTC") == "2028-02-29T00:00:00+00:00"


def test_periods_follow_the_workspace_clock() -> None:
    anchor = at("2026-11-26T15:00:00+05:30")
    period = monthly_period(anchor, "Asia/Kolkata", 0)
    assert local(period.end, "Asia/Kolkata") == "2026-12-26T15:00:00+05:30"


def test_a_month_across_a_dst_change_keeps_the_wall_clock() -> None:
    anchor = at("2026-02-10T12:00:00-05:00")
    period = monthly_period(anchor, "America/New_York", 0)
    assert local(period.end, "America/New_York") == "2026-03-10T12:00:00-04:00"
    assert period.length == 28 * DAY - HOUR


def test_trial_is_fourteen_local_days() -> None:
    start = at("2026-11-26T12:00:00+00:00")
    assert trial_period(start, "UTC", 14) == Span(start, start + 14 * DAY)
    fall_back = at("2026-10-30T12:00:00-04:00")
    trial = trial_period(fall_back, "America/New_York", 14)
    assert local(trial.end, "America/New_York") == "2026-11-13T12:00:00-05:00"
    assert trial.length == 14 * DAY + HOUR


def test_instants_before_the_anchor_belong_to_the_first_period() -> None:
    anchor = at("2026-11-26T12:00:00+00:00")
    assert monthly_index(anchor, "UTC", anchor - DAY) == 0


def test_negative_index_is_refused() -> None:
    with pytest.raises(ValueError, match="start at 0"):
        monthly_period(0, "UTC", -1)


anchors = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC)
).map(to_micros)


@given(anchor=anchors, tz=st.sampled_from(ZONES), months=st.integers(0, 240))
def test_periods_are_contiguous_and_on_the_anchor_day(anchor: int, tz: str, months: int) -> None:
    first = from_micros(anchor).astimezone(ZoneInfo(tz))
    this, following = monthly_period(anchor, tz, months), monthly_period(anchor, tz, months + 1)
    assert this.end == following.start
    assert 27 * DAY < this.length < 32 * DAY
    begins = from_micros(this.start).astimezone(ZoneInfo(tz))
    expected = add_months(first.replace(tzinfo=None), months)
    assert begins.day == min(first.day, calendar.monthrange(begins.year, begins.month)[1])
    assert (begins.year, begins.month, begins.day) == (expected.year, expected.month, expected.day)


@given(
    anchor=anchors,
    tz=st.sampled_from(ZONES),
    offset=st.integers(min_value=-DAY, max_value=3_000 * DAY),
)
def test_monthly_index_finds_the_period_holding_an_instant(
    anchor: int, tz: str, offset: int
) -> None:
    instant = anchor + offset
    index = monthly_index(anchor, tz, instant)
    if instant < anchor:
        assert index == 0
    else:
        assert instant in monthly_period(anchor, tz, index)
