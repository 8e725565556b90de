"""Ranges and buckets of a usage series in an IANA timezone (SPEC §2.8).

Usage is rolled up per 15-minute UTC slot. Every real UTC offset is a multiple of 15
minutes, so every local hour, day, week and month boundary falls on a slot boundary and a
bucket is an exact union of slots: no rollup is ever split or estimated. Each boundary is
found as "the first slot boundary where the local clock says so", which also handles the
local times that do not exist or happen twice on DST days.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from typing import TypeVar
from zoneinfo import ZoneInfo

from botbill.kit.days import day_start, local_date
from botbill.kit.instants import HOUR, SLOT, Micros, from_micros

MAX_CUSTOM_DAYS = 366
MAX_HOURLY_DAYS = 7

_Choice = TypeVar("_Choice", bound=StrEnum)


class Granularity(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class RangeKind(StrEnum):
    LAST_24_HOURS = "24h"
    LAST_7_DAYS = "7d"
    LAST_30_DAYS = "30d"
    CUSTOM = "custom"


class RangeError(ValueError):
    """A usage query that names no valid window; ``field`` is the query field to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Bucket:
    """The half-open interval ``[start, end)``."""

    start: Micros
    end: Micros


@dataclass(frozen=True, slots=True)
class Window:
    """A range cut into buckets that partition ``[start, end)`` exactly."""

    tz: str
    range: RangeKind
    granularity: Granularity
    start: Micros
    end: Micros
    buckets: tuple[Bucket, ...]


def window(
    *,
    range: RangeKind | str,
    tz: str,
    now: Micros,
    granularity: Granularity | str | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
) -> Window:
    """The window of a usage query, or a RangeError naming the field at fault.

    ``24h`` is the 24 hourly buckets ending with the current local hour; ``7d`` and ``30d``
    are the last 7 or 30 local days including today; ``custom`` is ``from_date`` to
    ``to_date``, local dates, both included. Day, week and month buckets are calendar
    aligned and the first and last are clipped to the window.
    """
    kind = _parse(RangeKind, range, "range")
    zone = _zone(tz)
    if kind is not RangeKind.CUSTOM and (from_date is not None or to_date is not None):
        field = "from" if from_date is not None else "to"
        raise RangeError(field, f"{field} is only allowed with range=custom")
    default = Granularity.HOUR if kind is RangeKind.LAST_24_HOURS else Granularity.DAY
    grain = default if granularity is None else _parse(Granularity, granularity, "granularity")

    if kind is RangeKind.LAST_24_HOURS:
        start, end = _last_24_hours(now, zone)
    else:
        if kind is RangeKind.CUSTOM:
            first, last = _custom_dates(from_date, to_date)
        else:
            days = 7 if kind is RangeKind.LAST_7_DAYS else 30
            last = local_date(now, zone)
            first = last - timedelta(days=days - 1)
        if grain is Granularity.HOUR and (last - first).days + 1 > MAX_HOURLY_DAYS:
            raise RangeError(
                "granularity", f"hourly buckets need a range of at most {MAX_HOURLY_DAYS} days"
            )
        start, end = day_start(first, zone), day_start(last + timedelta(days=1), zone)
    bounds = _bounds(start, end, grain, zone)
    return Window(
        tz=tz,
        range=kind,
        granularity=grain,
        start=start,
        end=end,
        buckets=tuple(Bucket(a, b) for a, b in pairwise(bounds)),
    )


def bucket_index(window: Window) -> Callable[[int], int]:
    """Map a 15-minute slot index (``slot_of``) to its bucket's index, -1 outside."""
    starts = [bucket.start // SLOT for bucket in window.buckets]
    first, stop = window.start // SLOT, window.end // SLOT

    def index(slot: int) -> int:
        if not first <= slot < stop:
            return -1
        # bisect_right skips a zero-length bucket (a skipped local day) for its successor.
        return bisect_right(starts, slot) - 1

    return index


@lru_cache(maxsize=4096)  # bucket bounds repeat from one request to the next
def local_iso(instant: Micros, tz: str) -> str:
    """RFC 3339 with the local offset, e.g. ``2026-11-21T00:00:00+05:30``."""
    local = from_micros(instant).astimezone(_zone(tz))
    return local.isoformat(timespec="microseconds" if local.microsecond else "seconds")


def _parse(kind: type[_Choice], value: _Choice | str, field: str) -> _Choice:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise RangeError(field, f"{field} must be one of {allowed}, not {value!r}") from None


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (KeyError, ValueError, OSError):
        raise RangeError("tz", f"unknown timezone {tz!r}; use an IANA name") from None


def _custom_dates(from_date: date | None, to_date: date | None) -> tuple[date, date]:
    if from_date is None:
        raise RangeError("from", "from is required with range=custom")
    if to_date is None:
        raise RangeError("to", "to is required with range=custom")
    if to_date < from_date:
        raise RangeError("to", "to must not be before from")
    if (to_date - from_date).days + 1 > MAX_CUSTOM_DAYS:
        raise RangeError("to", f"a custom range spans at most {MAX_CUSTOM_DAYS} days")
    return from_date, to_date


def _local(instant: Micros, zone: ZoneInfo) -> datetime:
    return from_micros(instant).astimezone(zone)


def _hour_key(instant: Micros, zone: ZoneInfo) -> tuple[date, int, timedelta | None]:
    # The offset tells apart the two runs of a repeated hour when clocks fall back.
    local = _local(instant, zone)
    return local.date(), local.hour, local.utcoffset()


@lru_cache(maxsize=256)  # a 24-hour window moves by a slot every 15 minutes
def _hour_starts(start: Micros, end: Micros, zone: ZoneInfo) -> tuple[Micros, ...]:
    """Every slot boundary in ``[start, end)`` where a new local hour begins."""
    starts: list[Micros] = []
    previous = _hour_key(start - SLOT, zone)
    for instant in _slots(start, end):
        key = _hour_key(instant, zone)
        if key != previous:
            starts.append(instant)
        previous = key
    return tuple(starts)


def _slots(start: Micros, end: Micros) -> list[Micros]:
    return list(range(start, end, SLOT))


def _last_24_hours(now: Micros, zone: ZoneInfo) -> tuple[Micros, Micros]:
    # A local hour lasts at most an hour of real time, so 26 hours back always hold the
    # 23 hours before the current one and one hour ahead always holds its end.
    slot = now - now % SLOT
    starts = _hour_starts(slot - 26 * HOUR, slot + HOUR + SLOT, zone)
    current = bisect_right(starts, now) - 1
    return starts[current - 23], starts[current + 1]


def _bounds(start: Micros, end: Micros, grain: Granularity, zone: ZoneInfo) -> list[Micros]:
    """Bucket boundaries from ``start`` to ``end``, both included."""
    if grain is Granularity.HOUR:
        inner = [instant for instant in _hour_starts(start, end, zone) if instant > start]
        return [start, *inner, end]
    bounds = [start]
    unit = _unit_first_day(local_date(start, zone), grain)
    while True:
        unit = _next_unit(unit, grain)
        boundary = day_start(unit, zone)
        if boundary >= end:
            break
        bounds.append(boundary)
    bounds.append(end)
    return bounds


def _unit_first_day(day: date, grain: Granularity) -> date:
    if grain is Granularity.WEEK:
        return day - timedelta(days=day.weekday())
    if grain is Granularity.MONTH:
        return day.replace(day=1)
    return day


def _next_unit(first_day: date, grain: Granularity) -> date:
    if grain is Granularity.WEEK:
        return first_day + timedelta(weeks=1)
    if grain is Granularity.MONTH:
        return (first_day + timedelta(days=32)).replace(day=1)
    return first_day + timedelta(days=1)
