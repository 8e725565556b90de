"""The usage summary's result from rollup sums, alone (API.md, Compatibility)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from botbill.compat.summary import COUNTERS, month_of, summary_response
from botbill.kit.instants import DAY, HOUR, to_micros

APRIL = to_micros(datetime(2023, 4, 1, tzinfo=UTC))
EVERY = COUNTERS


def test_the_documented_monthly_sample() -> None:
    rows = [("ALL", APRIL, {"alert_notifications": 57, "conversations": 3})]
    answer = summary_response(rows, units=EVERY, grouped=False)
    assert answer == {
        "data": [
            {
                "bot": "ALL",
                "val": [
                    {
                        "date": "2023-04-01T00:00:00.000Z",
                        "val": {
                            "requests": 0,
                            "sessions": 0,
                            "alert_notifications": 57,
                            "proactive_notifications": 0,
                            "conversations": 3,
                        },
                    }
                ],
            }
        ],
        "averageSessions": 60,
    }


def test_empty_periods_are_left_out_and_the_average_counts_listed_periods() -> None:
    rows = [
        ("ALL", APRIL + 6 * DAY, {"sessions": 40, "requests": 6}),
        ("ALL", APRIL + 7 * DAY, {"sessions": 0}),
        ("ALL", APRIL + 8 * DAY, {"alert_notifications": 24}),
    ]
    answer = summary_response(rows, units=EVERY, grouped=False)
    assert [p["date"] for p in answer["data"][0]["val"]] == [
        "2023-04-07T00:00:00.000Z",
        "2023-04-09T00:00:00.000Z",
    ]
    assert answer["averageSessions"] == 35  # (46 + 24) / 2, as the daily sample


def test_only_the_requested_units_count() -> None:
    rows = [("ALL", APRIL, {"sessions": 5, "requests": 9}), ("ALL", APRIL + HOUR, {"requests": 2})]
    answer = summary_response(rows, units=["sessions"], grouped=False)
    [period] = answer["data"][0]["val"]
    assert period["val"] == dict.fromkeys(COUNTERS, 0) | {"sessions": 5}
    assert answer["averageSessions"] == 5


def test_grouped_by_bot_one_entry_per_bot_with_usage() -> None:
    rows = [
        ("b-bot", APRIL, {"sessions": 1}),
        ("a-bot", APRIL, {"sessions": 2}),
        ("c-bot", APRIL, {"sessions": 0}),
    ]
    answer = summary_response(rows, units=EVERY, grouped=True)
    assert [entry["bot"] for entry in answer["data"]] == ["a-bot", "b-bot"]
    assert answer["averageSessions"] == 3  # one distinct period


def test_nothing_at_all_is_one_empty_all_entry() -> None:
    assert summary_response([], units=EVERY, grouped=False) == {
        "data": [{"bot": "ALL", "val": []}],
        "averageSessions": 0,
    }
    assert summary_response([], units=EVERY, grouped=True) == {"data": [], "averageSessions": 0}


@given(days=st.lists(st.integers(0, 400), max_size=30), values=st.data())
def test_days_folded_into_months_keep_every_count(days: list[int], values: st.DataObject) -> None:
    rows = [
        ("ALL", month_of(APRIL + day * DAY), {"sessions": values.draw(st.integers(0, 9))})
        for day in days
    ]
    answer = summary_response(rows, units=EVERY, grouped=False)
    listed = answer["data"][0]["val"]
    assert sum(p["val"]["sessions"] for p in listed) == sum(r[2]["sessions"] for r in rows)
    assert all(p["date"].endswith("-01T00:00:00.000Z") for p in listed)
    if listed:
        assert answer["averageSessions"] == sum(p["val"]["sessions"] for p in listed) // len(listed)
