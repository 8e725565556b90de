"""The request bodies of the compatibility API, read into plain values (pure).

Every refusal is a 400 in the platform's shape naming the field (API.md, Compatibility).
Dates come as ``yyyy-mm-dd`` (that whole UTC day) or ``yyyy-mm-ddThh:mm:ss.sssZ``; both
ends of a range are inclusive, so a range here is ``[start, end)`` with ``end`` just past
the last instant asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, Literal

from botbill.compat.errors import bad_request
from botbill.kit.instants import DAY, Micros, to_micros

SESSIONS_MAX_DAYS: Final = 92
SUMMARY_MAX_DAYS: Final = 90
DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1_000

UNIT_COUNTERS: Final = {
    "request": "requests",
    "session": "sessions",
    "alert": "alert_notifications",
    "proactive": "proactive_notifications",
    "conversations": "conversations",
}
"""Each ``unitType`` and the counter of the summary it fills."""

Period = Literal["date_day_hour", "date_day", "date_month"]
PERIODS: Final[tuple[Period, ...]] = ("date_day_hour", "date_day", "date_month")

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII).fullmatch
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z", re.ASCII).fullmatch
_FORMATS = "yyyy-mm-dd or yyyy-mm-ddThh:mm:ss.sssZ"


@dataclass(frozen=True, slots=True)
class Span:
    """``[start, end)`` in µs, from two inclusive bounds."""

    start: Micros
    end: Micros


@dataclass(frozen=True, slots=True)
class SessionsQuery:
    span: Span
    limit: int
    skip: int
    channel: str | None
    bot_id: str | None


@dataclass(frozen=True, slots=True)
class SummaryQuery:
    span: Span
    units: tuple[str, ...]
    """The counters asked for (values of UNIT_COUNTERS); the others stay 0."""
    group_by_bot: bool
    period: Period
    stream_ids: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.span.start,
            "end": self.span.end,
            "units": list(self.units),
            "group_by_bot": self.group_by_bot,
            "period": self.period,
            "stream_ids": list(self.stream_ids),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> SummaryQuery:
        return cls(
            span=Span(value["start"], value["end"]),
            units=tuple(value["units"]),
            group_by_bot=value["group_by_bot"],
            period=value["period"],
            stream_ids=tuple(value["stream_ids"]),
        )


def _body(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    return body


def _bound(body: dict[str, Any], field: str, *, closing: bool) -> tuple[Micros, Micros]:
    """The bound as given (a date's midnight) and where the range stops or starts."""
    value = body.get(field)
    if value is None:
        raise bad_request(f"{field} is required ({_FORMATS})")
    if not isinstance(value, str):
        raise bad_request(f"{field} must be a string ({_FORMATS})")
    try:
        if _DATE(value):
            midnight = to_micros(
                datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
            )
            return midnight, midnight + DAY if closing else midnight
        if _INSTANT(value):
            instant = to_micros(datetime.fromisoformat(value))
            return instant, instant + 1 if closing else instant
    except ValueError:
        raise bad_request(f"{field} is not a real date: {value!r}") from None
    raise bad_request(f"{field} must be {_FORMATS}, not {value!r}")


def span_of(body: dict[str, Any], *, max_days: int) -> Span:
    """The range of ``fromDate``..``toDate``, both inclusive, at most ``max_days`` apart."""
    given_from, start = _bound(body, "fromDate", closing=False)
    given_to, end = _bound(body, "toDate", closing=True)
    if given_from > given_to:
        raise bad_request("fromDate is after toDate")
    if given_to - given_from > max_days * DAY:
        raise bad_request(f"toDate is more than {max_days} days after fromDate")
    return Span(start, end)


def _count(body: dict[str, Any], field: str, *, default: int, low: int, high: int) -> int:
    value = body.get(field, default)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise bad_request(f"{field} must be a whole number from {low} to {high}")
    return value


def _optional_text(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad_request(f"{field} must be a string")
    return value


def sessions_query(body: object) -> SessionsQuery:
    """The body of ``getBillingSessionsDetails``."""
    fields = _body(body)
    channel = _optional_text(fields, "channel")
    return SessionsQuery(
        span=span_of(fields, max_days=SESSIONS_MAX_DAYS),
        limit=_count(fields, "limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT),
        skip=_count(fields, "skip", default=0, low=0, high=2**31 - 1),
        channel=None if channel is None else channel.lower(),
        bot_id=_optional_text(fields, "botId"),
    )


def _units(value: object) -> tuple[str, ...]:
    if value is None:
        return tuple(UNIT_COUNTERS.values())
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        raise bad_request("unitType must be a unit type or a non-empty array of them")
    counters: list[str] = []
    for name in names:
        if not isinstance(name, str) or name.lower() not in UNIT_COUNTERS:
            known = ", ".join(UNIT_COUNTERS)
            raise bad_request(f"unitType {name!r} is not one of {known}")
        counters.append(UNIT_COUNTERS[name.lower()])
    return tuple(sorted(set(counters)))


def _yes_no(fields: dict[str, Any]) -> bool:
    for field in ("groupByBot", "groupByApp"):
        value = fields.get(field)
        if value is None:
            continue
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("yes", "no"):
            return value.lower() == "yes"
        raise bad_request(f"{field} must be 'yes' or 'no'")
    return False


def _period(value: object) -> Period:
    if value is None:
        return "date_day"
    for period in PERIODS:
        if value == period:
            return period
    raise bad_request(f"groupByPeriod {value!r} is not one of {', '.join(PERIODS)}")


def _stream_ids(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise bad_request("streamIds must be an array of bot ids")
    return tuple(sorted(set(value)))


def summary_query(body: object) -> SummaryQuery:
    """The body of ``billingsessionsummary``."""
    fields = _body(body)
    return SummaryQuery(
        span=span_of(fields, max_days=SUMMARY_MAX_DAYS),
        units=_units(fields.get("unitType")),
        group_by_bot=_yes_no(fields),
        period=_period(fields.get("groupByPeriod")),
        stream_ids=_stream_ids(fields.get("streamIds")),
    )
