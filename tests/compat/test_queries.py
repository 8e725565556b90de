"""Request bodies of the compatibility API read into plain values, and their 400s."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from botbill.compat.errors import PlatformError
from botbill.compat.formats import iso_millis, platform_datetime
from botbill.compat.queries import sessions_query, summary_query
from botbill.kit.instants import DAY, to_micros


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> int:
    return to_micros(datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC))


def refused(body: Any, *, summary: bool = False) -> str:
    with pytest.raises(PlatformError) as caught:
        (summary_query if summary else sessions_query)(body)
    assert caught.value.status == 400
    return caught.value.msg


def test_a_bare_date_is_its_whole_utc_day_both_ends_inclusive() -> None:
    query = sessions_query({"fromDate": "2021-03-21", "toDate": "2021-03-22"})
    assert (query.span.start, query.span.end) == (at(2021, 3, 21), at(2021, 3, 23))
    assert (query.limit, query.skip, query.channel, query.bot_id) == (100, 0, None, None)


def test_instants_are_inclusive_to_the_microsecond() -> None:
    query = sessions_query(
        {"fromDate": "2019-04-01T13:25:58.515Z", "toDate": "2019-04-02T00:00:00.000Z"}
    )
    assert query.span.start == at(2019, 4, 1, 13, 25, 58, 515_000)
    assert query.span.end == at(2019, 4, 2) + 1


def test_92_days_apart_is_the_most_for_sessions_and_90_for_summaries() -> None:
    assert sessions_query({"fromDate": "2021-01-01", "toDate": "2021-04-03"}).span.end == at(
        2021, 4, 4
    )
    assert "92 days" in refused({"fromDate": "2021-01-01", "toDate": "2021-04-04"})
    body = {"fromDate": "2021-01-01", "toDate": "2021-04-01"}
    assert summary_query(body).span.start == at(2021, 1, 1)
    assert "90 days" in refused({**body, "toDate": "2021-04-02"}, summary=True)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"toDate": "2021-03-22"}, "fromDate"),
        ({"fromDate": "2021-03-22"}, "toDate"),
        ({"fromDate": "22-03-2021", "toDate": "2021-03-22"}, "fromDate"),
        ({"fromDate": "2021-03-21", "toDate": "2021-02-30"}, "toDate"),
        ({"fromDate": "2021-03-21", "toDate": "2021-03-22T10:00:00+05:30"}, "toDate"),
        ({"fromDate": 20210321, "toDate": "2021-03-22"}, "fromDate"),
        ({"fromDate": "2021-03-23", "toDate": "2021-03-22"}, "fromDate"),
        ({"fromDate": "2021-03-21", "toDate": "2021-03-22", "limit": 1001}, "limit"),
        ({"fromDate": "2021-03-21", "toDate": "2021-03-22", "limit": 0}, "limit"),
        ({"fromDate": "2021-03-21", "toDate": "2021-03-22", "skip": -1}, "skip"),
        ({"fromDate": "2021-03-21", "toDate": "2021-03-22", "channel": 7}, "channel"),
    ],
)
def test_bad_sessions_bodies_name_the_field(body: dict[str, Any], field: str) -> None:
    assert field in refused(body)


def test_a_body_that_is_not_an_object_is_refused() -> None:
    assert "object" in refused([{"fromDate": "2021-03-21"}])


def test_summary_defaults_and_the_documented_spellings() -> None:
    query = summary_query(
        {
            "fromDate": "2023-04-07T10:10:54.680Z",
            "toDate": "2023-04-09T10:10:54.680Z",
            "unitType": "SESSION",
            "groupByApp": "Yes",
            "streamIds": ["b", "a", "b"],
        }
    )
    assert query.units == ("sessions",)
    assert query.group_by_bot
    assert query.period == "date_day"
    assert query.stream_ids == ("a", "b")
    every = summary_query({"fromDate": "2023-04-07", "toDate": "2023-04-07"})
    assert set(every.units) == {
        "requests",
        "sessions",
        "alert_notifications",
        "proactive_notifications",
        "conversations",
    }
    assert not every.group_by_bot


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"unitType": ["session", "minutes"]}, "unitType"),
        ({"unitType": []}, "unitType"),
        ({"groupByPeriod": "date_week"}, "groupByPeriod"),
        ({"groupByBot": "maybe"}, "groupByBot"),
        ({"streamIds": "st-1"}, "streamIds"),
    ],
)
def test_bad_summary_bodies_name_the_field(extra: dict[str, Any], field: str) -> None:
    assert field in refused(
        {"fromDate": "2023-04-07", "toDate": "2023-04-08", **extra}, summary=True
    )


def test_a_summary_query_survives_its_json() -> None:
    query = summary_query(
        {
            "fromDate": "2022-09-01T07:18:54.089Z",
            "toDate": "2022-09-07T23:30:25.931Z",
            "unitType": ["session", "request"],
            "groupByBot": "yes",
            "streamIds": ["st-1"],
            "groupByPeriod": "date_month",
        }
    )
    assert type(query).from_json(query.as_json()) == query


@pytest.mark.parametrize(
    ("instant", "text"),
    [
        (at(2021, 3, 10, 14, 5, 3), "03-10-2021 2:05:03 pm"),
        (at(2021, 3, 10, 0, 0, 0), "03-10-2021 12:00:00 am"),
        (at(2021, 3, 10, 12, 0, 59, 999_999), "03-10-2021 12:00:59 pm"),
        (at(2021, 12, 31, 23, 59, 59), "12-31-2021 11:59:59 pm"),
        (at(2021, 1, 2, 9, 7, 1), "01-02-2021 9:07:01 am"),
    ],
)
def test_platform_datetimes(instant: int, text: str) -> None:
    assert platform_datetime(instant) == text


def test_iso_millis() -> None:
    assert iso_millis(at(2023, 4, 27, 6, 19, 11, 34_999)) == "2023-04-27T06:19:11.034Z"
    assert iso_millis(at(2023, 4, 1) + DAY) == "2023-04-02T00:00:00.000Z"
