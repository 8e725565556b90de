"""Seat presence bitmaps: the slot arithmetic behind agent counts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from botbill.kit.instants import MINUTE, SLOT
from botbill.metering.seat_presence import from_bitmap, held_slots, slot_changes, to_bitmap
from botbill.metering.seats import SeatInterval


def test_a_seat_holds_the_slots_it_overlaps_by_more_than_an_instant() -> None:
    # 10:05 to 10:30 touches the 10:00 and 10:15 slots; ending exactly at 10:30 does not
    # hold the 10:30 slot.
    start = 40 * SLOT + 5 * MINUTE
    assert held_slots([SeatInterval(start, 42 * SLOT)]) == {40, 41}
    assert held_slots([SeatInterval(start, 42 * SLOT + 1)]) == {40, 41, 42}
    assert held_slots([SeatInterval(start, start)]) == set()
    assert held_slots([SeatInterval(start, None)]) == set()  # open seats are added at query time


@st.composite
def interval_lists(draw: st.DrawFn) -> list[SeatInterval]:
    """Disjoint, sorted intervals of one seat (closed, maybe one open at the end)."""
    cuts = sorted(draw(st.sets(st.integers(0, 40 * SLOT), min_size=0, max_size=12)))
    intervals = [SeatInterval(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False)]
    if len(cuts) % 2 and draw(st.booleans()):
        intervals.append(SeatInterval(cuts[-1], None))
    return intervals


@given(old=interval_lists(), new=interval_lists())
def test_slot_changes_move_old_holdings_to_new(
    old: list[SeatInterval], new: list[SeatInterval]
) -> None:
    to_set, to_clear = slot_changes(old, new)
    assert (held_slots(old) | to_set) - to_clear == held_slots(new)
    assert not to_set & to_clear


@given(old=interval_lists(), extra=st.integers(1, 20))
def test_one_more_shift_touches_only_its_own_slots(old: list[SeatInterval], extra: int) -> None:
    last = max((i.end or i.start for i in old), default=0)
    shift = SeatInterval(last + SLOT, last + SLOT + extra * SLOT)
    closed = [i for i in old if i.end is not None]
    to_set, to_clear = slot_changes(closed, [*closed, shift])
    assert to_set == held_slots([shift])
    assert to_clear == set()


@given(bits=st.integers(0, 2**300))
def test_bitmaps_round_trip(bits: int) -> None:
    assert to_bitmap(from_bitmap(bits)) == bits
