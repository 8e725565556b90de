"""Which seats were held in each 15-minute slot: a bitmap per workspace and slot.

Agent counts are distinct counts, so they cannot be summed like session rollups. Each
seat gets a small ordinal in its workspace; the row of a slot holds one bit per seat that
held the slot for more than an instant. A bucket's agents are then the bits set in any of
its slots: a few thousand integer ORs for a 30-day view, whatever the number of seat
intervals. Still-open seats are not stored here (they grow with the clock); queries add
them from ``seat_intervals``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from sqlalchemy import BigInteger, Select, String, bindparam, select, update
from sqlalchemy.orm import Session

from botbill.kit.batching import chunked, rows_in
from botbill.kit.db import table_of, upsert_insert
from botbill.kit.instants import SLOT, Micros
from botbill.kit.slot_buckets import bucket_index, bucket_params
from botbill.metering.models import AgentSeat, SeatOrdinalCounter, SeatPresence
from botbill.metering.seats import SeatInterval

SeatKey = tuple[str, str]  # (app_id, agent_id)
CHUNK = 500


def held_slots(intervals: Iterable[SeatInterval]) -> set[int]:
    """The slots that a seat's closed intervals overlap by more than an instant."""
    slots: set[int] = set()
    for interval in intervals:
        if interval.end is None or interval.start >= interval.end:
            continue
        slots.update(range(interval.start // SLOT, (interval.end - 1) // SLOT + 1))
    return slots


def slot_changes(
    old: Iterable[SeatInterval], new: Iterable[SeatInterval]
) -> tuple[set[int], set[int]]:
    """(slots to set, slots to clear) for a seat whose intervals go from ``old`` to ``new``.

    Only the intervals that changed are expanded into slots, so a new shift of a seat
    with months of history costs that shift's slots. Intervals of one seat are disjoint,
    so an unchanged interval shares at most its first and last slot with a changed one.
    """
    old_set, new_set = set(old), set(new)
    added = new_set - old_set
    gained, lost = held_slots(added), held_slots(old_set - new_set)
    kept_edges: set[int] = set()
    for interval in new_set & old_set:
        if interval.end is not None and interval.start < interval.end:
            kept_edges.update((interval.start // SLOT, (interval.end - 1) // SLOT))
    return gained - lost - kept_edges, lost - gained - kept_edges


def to_bitmap(blob: bytes) -> int:
    return int.from_bytes(blob, "little")


def from_bitmap(bits: int) -> bytes:
    return bits.to_bytes((bits.bit_length() + 7) // 8, "little")


def ordinals(session: Session, *, workspace_id: str, keys: Iterable[SeatKey]) -> dict[SeatKey, int]:
    """Each seat's ordinal, giving the seats that have none the next free ones.

    The workspace's counter row is locked while ordinals are handed out, so two
    concurrent ingests never give one ordinal twice.
    """
    seats = table_of(AgentSeat).c
    wanted = set(keys)
    found: dict[SeatKey, int | None] = {}
    for pairs in chunked(sorted(wanted), 50):
        query = select(seats.app_id, seats.agent_id, seats.ordinal).where(
            rows_in(
                (seats.workspace_id, seats.app_id, seats.agent_id),
                ((workspace_id, *pair) for pair in pairs),
            )
        )
        for app_id, agent_id, ordinal in session.execute(query):
            found[(app_id, agent_id)] = ordinal
    missing = sorted(key for key in wanted if found.get(key) is None)
    if missing:
        counter = table_of(SeatOrdinalCounter)
        session.execute(
            upsert_insert(session)(counter)
            .values(workspace_id=workspace_id, next_ordinal=0)
            .on_conflict_do_nothing(index_elements=["workspace_id"])
        )
        first = session.execute(
            update(counter)
            .where(counter.c.workspace_id == workspace_id)
            .values(next_ordinal=counter.c.next_ordinal + len(missing))
            .returning(counter.c.next_ordinal)
        ).scalar_one() - len(missing)
        for offset, (app_id, agent_id) in enumerate(missing):
            session.execute(
                update(table_of(AgentSeat))
                .where(
                    seats.workspace_id == workspace_id,
                    seats.app_id == app_id,
                    seats.agent_id == agent_id,
                )
                .values(ordinal=first + offset)
            )
            found[(app_id, agent_id)] = first + offset
    return {key: ordinal for key, ordinal in found.items() if ordinal is not None}


def apply_changes(
    session: Session,
    *,
    workspace_id: str,
    changes: Mapping[int, tuple[set[int], set[int]]],
) -> None:
    """Set and clear seats' bits: ordinal → (slots to set, slots to clear)."""
    setting: dict[int, int] = defaultdict(int)
    clearing: dict[int, int] = defaultdict(int)
    for ordinal, (to_set, to_clear) in changes.items():
        bit = 1 << ordinal
        for slot in to_set:
            setting[slot] |= bit
        for slot in to_clear:
            clearing[slot] |= bit
    slots = sorted(set(setting) | set(clearing))
    if not slots:
        return
    presence = table_of(SeatPresence)
    for chunk in chunked(slots, CHUNK):
        # Create missing rows, then take them in slot order (locked until commit on
        # PostgreSQL) and rewrite their bits.
        session.execute(
            upsert_insert(session)(presence).on_conflict_do_nothing(
                index_elements=["workspace_id", "slot"]
            ),
            [{"workspace_id": workspace_id, "slot": slot, "seats": b""} for slot in chunk],
        )
        query = (
            select(presence.c.slot, presence.c.seats)
            .where(presence.c.workspace_id == workspace_id, presence.c.slot.in_(chunk))
            .order_by(presence.c.slot)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        rewritten = []
        for slot, blob in session.execute(query):
            bits = (to_bitmap(blob) & ~clearing.get(slot, 0)) | setting.get(slot, 0)
            rewritten.append({"w": workspace_id, "s": slot, "seats": from_bitmap(bits)})
        session.execute(
            update(presence)
            .where(presence.c.workspace_id == bindparam("w"), presence.c.slot == bindparam("s"))
            .values(seats=bindparam("seats")),
            rewritten,
            execution_options={"synchronize_session": False},
        )


def agents_by_bucket(
    session: Session,
    *,
    workspace_id: str,
    mask: int | None,
    bucket_bounds: Sequence[tuple[Micros, Micros]],
    open_seats: Sequence[tuple[int, Micros]],
    now: Micros,
) -> tuple[list[int], int]:
    """Distinct seats per bucket and over all of them: (per bucket, whole range).

    The buckets are a window's: contiguous, each starting on a slot boundary.
    ``open_seats`` are (ordinal, start) of seats still held, counted up to ``now``;
    ``mask`` keeps one app's seats (its ordinals' bits), None all of the workspace's.
    """
    if not bucket_bounds:
        return [], 0
    starts = [start for start, _ in bucket_bounds]
    first_slot, end_slot = bucket_bounds[0][0] // SLOT, (bucket_bounds[-1][1] + SLOT - 1) // SLOT
    dialect = session.get_bind().dialect.name
    params = {
        "workspace_id": workspace_id,
        "first": first_slot,
        "end": end_slot,
        **bucket_params([start // SLOT for start in starts], dialect),
    }
    bitmaps = [0] * len(bucket_bounds)
    for index, blob in session.execute(_bitmaps_statement(len(starts), dialect), params):
        bitmaps[index] |= to_bitmap(blob)
    ends = [end for _, end in bucket_bounds]
    for ordinal, since in open_seats:
        bit = 1 << ordinal
        # Only the buckets between the seat's start and now can hold it.
        for index in range(bisect_right(ends, since), bisect_left(starts, now)):
            start, end = bucket_bounds[index]
            if max(since, start) < min(now, end):
                bitmaps[index] |= bit
    if mask is not None:
        bitmaps = [bits & mask for bits in bitmaps]
    union = 0
    for bits in bitmaps:
        union |= bits
    return [bits.bit_count() for bits in bitmaps], union.bit_count()


@lru_cache(maxsize=64)
def _bitmaps_statement(buckets: int, dialect: str) -> Select[int, bytes]:
    """Each distinct bitmap of a bucket once, found by the database (a seat held for
    hours repeats one bitmap slot after slot); built once per shape."""
    presence = table_of(SeatPresence).c
    bucket = bucket_index(presence.slot, buckets, dialect)
    return (
        select(bucket, presence.seats)
        .where(
            presence.workspace_id == bindparam("workspace_id", type_=String),
            presence.slot >= bindparam("first", type_=BigInteger),
            presence.slot < bindparam("end", type_=BigInteger),
        )
        .distinct()
    )
