"""Local calendar days of an IANA timezone, on 15-minute slot boundaries.

A day runs from local midnight to local midnight (23 or 25 hours across a DST change).
Its bounds are slot boundaries, so the usage view's day buckets and the seat-days
charged for a day are the same days.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from botbill.kit.instants import SLOT, Micros, from_micros, to_micros

Day = tuple[Micros, Micros]


def local_date(instant: Micros, zone: ZoneInfo) -> date:
    return from_micros(instant).astimezone(zone).date()


@lru_cache(maxsize=8192)  # a pure function of a few hundred distinct days per zone
def day_start(day: date, zone: ZoneInfo) -> Micros:
    """The first slot boundary whose local date is ``day`` (or later).

    Usually local midnight; on a day whose midnight does not exist, the end of the DST gap;
    on a day whose midnight happens twice, the first of the two.
    """
    midnight = datetime.combine(day, time())
    guess = min(to_micros(midnight.replace(tzinfo=zone, fold=fold)) for fold in (0, 1))
    instant = guess - guess % SLOT
    while local_date(instant - SLOT, zone) >= day:
        instant -= SLOT
    while local_date(instant, zone) < day:
        instant += SLOT
    return instant


@lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def local_day(instant: Micros, tz: str) -> Day:
    """The bounds ``[start, end)`` of the local calendar day holding ``instant``."""
    zone = _zone(tz)
    day = local_date(instant, zone)
    return day_start(day, zone), day_start(day + timedelta(days=1), zone)


def days_touched(start: Micros, end: Micros, tz: str) -> list[Day]:
    """The local days ``[d0, d1)`` that the half-open ``[start, end)`` overlaps, in order."""
    days: list[Day] = []
    if end <= start:
        return days
    day = local_day(start, tz)
    while day[0] < end:
        days.append(day)
        day = local_day(day[1], tz)
    return days
