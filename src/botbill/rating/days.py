"""Local days for seat-days: which days of the workspace's timezone a seat touched.

A seat-day is one seat ``(app, agent)`` held at some instant of one local calendar day;
the days are the usage view's day buckets (local midnight to midnight, 23 or 25 hours
across a DST change), so the Agents column and the seat-day charges agree.
"""

from __future__ import annotations

from botbill.kit.instants import Micros
from botbill.usage.buckets import local_day

Day = tuple[Micros, Micros]


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
