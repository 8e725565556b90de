"""Agent seats and the agent count of a bucket or a range (SPEC §2.6).

A seat is the pair ``(app, agent_id)``: an agent seated in two apps counts twice. The count
over a range is the number of distinct seats that overlap it, never a sum of its buckets,
so the same agent working all week is one agent for the week and one on each day.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from botbill.kit.instants import Micros


class SeatEventKind(StrEnum):
    ASSIGNED = "assigned"
    RELEASED = "released"


SEAT_RANK: Final[Mapping[SeatEventKind, int]] = {
    SeatEventKind.ASSIGNED: 0,
    SeatEventKind.RELEASED: 1,
}


@dataclass(frozen=True, slots=True)
class SeatEvent:
    time: Micros
    kind: SeatEventKind
    event_id: str
    source: str = ""


@dataclass(frozen=True, slots=True)
class SeatInterval:
    """A seat held over ``[start, end)``; ``end`` is None while it is still held."""

    start: Micros
    end: Micros | None


Seat = tuple[str, str]
"""``(app, agent_id)``."""


def seat_intervals(events: Iterable[SeatEvent]) -> list[SeatInterval]:
    """The intervals of ONE seat, in time order.

    A second ``assigned`` while seated, or a ``released`` while free, changes nothing: the
    runtime may repeat itself, and the set of events must decide the result (SPEC §2.1).
    Intervals of zero length are dropped since they overlap no half-open bucket.
    """
    ordered = sorted(events, key=lambda e: (e.time, SEAT_RANK[e.kind], e.event_id, e.source))
    seen: set[tuple[str, str]] = set()
    intervals: list[SeatInterval] = []
    seated_since: Micros | None = None
    for event in ordered:
        identity = (event.source, event.event_id)
        if identity in seen:
            continue
        seen.add(identity)
        if event.kind == SeatEventKind.ASSIGNED and seated_since is None:
            seated_since = event.time
        elif event.kind == SeatEventKind.RELEASED and seated_since is not None:
            if event.time > seated_since:
                intervals.append(SeatInterval(seated_since, event.time))
            seated_since = None
    if seated_since is not None:
        intervals.append(SeatInterval(seated_since, None))
    return intervals


def overlaps(interval: SeatInterval, start: Micros, end: Micros, *, now: Micros) -> bool:
    """Whether the seat was held at some instant of the bucket ``[start, end)``.

    A seat still held runs to ``now``: a bucket in the future has no agents yet.
    """
    interval_end = now if interval.end is None else interval.end
    return max(interval.start, start) < min(interval_end, end)


def agent_count(
    seats: Mapping[Seat, Sequence[SeatInterval]], start: Micros, end: Micros, *, now: Micros
) -> int:
    """The number of distinct seats held at some instant of ``[start, end)``."""
    return sum(
        1
        for intervals in seats.values()
        if any(overlaps(interval, start, end, now=now) for interval in intervals)
    )


def agent_counts(
    seats: Mapping[Seat, Sequence[SeatInterval]],
    bucket_bounds: Sequence[tuple[Micros, Micros]],
    *,
    now: Micros,
) -> list[int]:
    """The agent count of each bucket ``[start, end)``, in the order given.

    The buckets must be sorted and disjoint (a window's are). Each interval is matched
    only to the buckets it can touch (found by bisection), so the cost grows with the
    intervals and the buckets they overlap, not with their product.
    """
    starts = [start for start, _ in bucket_bounds]
    ends = [end for _, end in bucket_bounds]
    counts = [0] * len(bucket_bounds)
    for intervals in seats.values():
        held: set[int] = set()
        for interval in intervals:
            interval_end = now if interval.end is None else interval.end
            if interval.start >= interval_end:
                continue
            first = bisect_right(ends, interval.start)  # the first bucket ending after it starts
            last = bisect_left(starts, interval_end)  # past the last bucket starting before it ends
            held.update(i for i in range(first, last) if starts[i] < ends[i])
        for index in held:
            counts[index] += 1
    return counts
