"""SPEC §2.6: seat intervals and the agent count of a bucket or a range."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botbill.kit.instants import HOUR, MINUTE, Micros, to_micros
from botbill.metering.seats import (
    Seat,
    SeatEvent,
    SeatEventKind,
    SeatInterval,
    agent_count,
    agent_counts,
    overlaps,
    seat_intervals,
)

T0 = to_micros(datetime(2026, 3, 10, tzinfo=UTC))
ASSIGNED, RELEASED = SeatEventKind.ASSIGNED, SeatEventKind.RELEASED


def seat_event(
    *, at: Micros, kind: SeatEventKind, event_id: str | None = None, source: str = "runtime"
) -> SeatEvent:
    return SeatEvent(time=at, kind=kind, event_id=event_id or f"{kind}-{at}", source=source)


def test_assigned_then_released_is_one_interval() -> None:
    events = [seat_event(at=T0 + HOUR, kind=RELEASED), seat_event(at=T0, kind=ASSIGNED)]
    assert seat_intervals(events) == [SeatInterval(T0, T0 + HOUR)]


def test_repeated_assignments_and_releases_change_nothing() -> None:
    events = [
        seat_event(at=T0 - HOUR, kind=RELEASED),
        seat_event(at=T0, kind=ASSIGNED),
        seat_event(at=T0 + MINUTE, kind=ASSIGNED),
        seat_event(at=T0 + HOUR, kind=RELEASED),
        seat_event(at=T0 + 2 * HOUR, kind=RELEASED),
        seat_event(at=T0 + 3 * HOUR, kind=ASSIGNED),
    ]
    assert seat_intervals(events) == [
        SeatInterval(T0, T0 + HOUR),
        SeatInterval(T0 + 3 * HOUR, None),
    ]


def test_zero_length_interval_is_dropped() -> None:
    events = [seat_event(at=T0, kind=RELEASED), seat_event(at=T0, kind=ASSIGNED)]
    assert seat_intervals(events) == []


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (SeatInterval(T0 - HOUR, T0), False),
        (SeatInterval(T0 - HOUR, T0 + 1), True),
        (SeatInterval(T0 + HOUR - 1, T0 + 2 * HOUR), True),
        (SeatInterval(T0 + HOUR, T0 + 2 * HOUR), False),
        (SeatInterval(T0 - HOUR, None), True),
    ],
    ids=["ends at bucket start", "ends inside", "starts at last µs", "starts at end", "open"],
)
def test_bucket_is_half_open(interval: SeatInterval, expected: bool) -> None:
    assert overlaps(interval, T0, T0 + HOUR, now=T0 + 30 * MINUTE) is expected


def test_open_interval_runs_to_now() -> None:
    held = SeatInterval(T0, None)
    assert not overlaps(held, T0 + HOUR, T0 + 2 * HOUR, now=T0 + HOUR)
    assert overlaps(held, T0 + HOUR, T0 + 2 * HOUR, now=T0 + HOUR + 1)


def test_range_count_is_distinct_not_a_sum() -> None:
    seats: dict[Seat, list[SeatInterval]] = {
        ("app-1", "ann"): [SeatInterval(T0, T0 + 3 * HOUR)],
        ("app-2", "ann"): [SeatInterval(T0 + HOUR, T0 + 90 * MINUTE)],
        ("app-1", "bob"): [SeatInterval(T0 + 2 * HOUR, None)],
    }
    hours = [(T0 + h * HOUR, T0 + (h + 1) * HOUR) for h in range(3)]
    now = T0 + 10 * HOUR
    assert agent_counts(seats, hours, now=now) == [1, 2, 2]
    assert agent_count(seats, T0, T0 + 3 * HOUR, now=now) == 3


# --- properties --------------------------------------------------------------------------

_times = st.integers(0, 48).map(lambda q: T0 + q * 15 * MINUTE)
_seat_events = st.lists(
    st.builds(
        SeatEvent,
        time=_times,
        kind=st.sampled_from(list(SeatEventKind)),
        event_id=st.sampled_from([f"e{i}" for i in range(20)]),
        source=st.sampled_from(["a", "b"]),
    ),
    max_size=15,
)


@given(events=_seat_events, data=st.data())
def test_order_and_duplicates_do_not_matter(events: list[SeatEvent], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(events))
    copies = data.draw(st.lists(st.sampled_from(events), max_size=8)) if events else []
    assert seat_intervals([*shuffled, *copies]) == seat_intervals(events)


@given(events=_seat_events)
def test_intervals_are_disjoint_and_in_order(events: list[SeatEvent]) -> None:
    intervals = seat_intervals(events)
    assert all(i.end is None or i.start < i.end for i in intervals)
    assert all(a.end is not None and a.end <= b.start for a, b in pairwise(intervals))


_seats = st.dictionaries(
    st.tuples(st.sampled_from(["app-1", "app-2"]), st.sampled_from(["ann", "bob", "cy", "di"])),
    _seat_events.map(seat_intervals),
)


@given(
    seats=_seats,
    cuts=st.lists(_times, min_size=2, max_size=8, unique=True).map(sorted),
    now=_times,
)
def test_range_count_is_the_union_of_bucket_seats(
    seats: dict[Seat, list[SeatInterval]], cuts: list[Micros], now: Micros
) -> None:
    buckets = list(pairwise(cuts))
    counts = agent_counts(seats, buckets, now=now)
    seated = {
        seat
        for start, end in buckets
        for seat, intervals in seats.items()
        if any(overlaps(i, start, end, now=now) for i in intervals)
    }
    total = agent_count(seats, cuts[0], cuts[-1], now=now)
    assert total == len(seated)
    assert max(counts) <= total <= sum(counts)
