"""Subscription periods in the workspace's timezone (SPEC §3.1, §3.5).

A series of monthly periods is anchored at the instant it began (the subscription's start,
or the moment an upgrade started a new period). Period ``k`` begins at the anchor's local
wall-clock time on the anchor's day of the month ``k`` months later; in a shorter month
the day is clamped to its last day (an anchor on 31 January gives 28 or 29 February, then
31 March again: every boundary is computed from the anchor, never from the previous one,
so clamping never drifts). A trial is one period of ``days`` local days.

Local times that do not exist (a DST gap) or happen twice (a DST fold) resolve as
``zoneinfo`` does with ``fold=0``: the offset in force before the transition.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botbill.kit.instants import Micros, from_micros, to_micros
from botbill.kit.timezones import zone


@dataclass(frozen=True, slots=True)
class Span:
    """The half-open interval ``[start, end)``."""

    start: Micros
    end: Micros

    def __contains__(self, instant: object) -> bool:
        return isinstance(instant, int) and self.start <= instant < self.end

    @property
    def length(self) -> Micros:
        return self.end - self.start


def _local(instant: Micros, tz: str) -> datetime:
    return from_micros(instant).astimezone(zone(tz))


def _instant(wall: datetime, tz: str) -> Micros:
    """A naive local wall-clock time in ``tz`` as an instant (``fold=0``)."""
    return to_micros(wall.replace(tzinfo=zone(tz), fold=0).astimezone(UTC))


def add_months(wall: datetime, months: int) -> datetime:
    """The same wall-clock time ``months`` later, the day clamped to the month's end."""
    index = wall.year * 12 + (wall.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(wall.day, calendar.monthrange(year, month)[1])
    return wall.replace(year=year, month=month, day=day)


def month_boundary(anchor: Micros, tz: str, index: int) -> Micros:
    """Where monthly period ``index`` of the series anchored at ``anchor`` begins."""
    if index == 0:
        return anchor
    wall = _local(anchor, tz).replace(tzinfo=None)
    return _instant(add_months(wall, index), tz)


def monthly_period(anchor: Micros, tz: str, index: int) -> Span:
    if index < 0:
        raise ValueError("period indexes start at 0")
    return Span(month_boundary(anchor, tz, index), month_boundary(anchor, tz, index + 1))


def monthly_index(anchor: Micros, tz: str, instant: Micros) -> int:
    """The index of the monthly period holding ``instant`` (0 for instants before the anchor)."""
    if instant < anchor:
        return 0
    local = _local(instant, tz)
    first = _local(anchor, tz)
    guess = max(0, (local.year - first.year) * 12 + (local.month - first.month) - 1)
    while month_boundary(anchor, tz, guess + 1) <= instant:
        guess += 1
    while guess > 0 and month_boundary(anchor, tz, guess) > instant:
        guess -= 1
    return guess


def trial_period(start: Micros, tz: str, days: int) -> Span:
    """``days`` local days from ``start``, ending at the same local wall-clock time."""
    wall = _local(start, tz).replace(tzinfo=None)
    return Span(start, _instant(wall + timedelta(days=days), tz))


def local_date_text(instant: Micros, tz: str) -> str:
    """``2026-12-26`` for people: the local date an instant falls on."""
    return _local(instant, tz).date().isoformat()
