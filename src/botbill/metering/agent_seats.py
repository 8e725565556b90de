"""Agent seats as stored: each seat's intervals recomputed from its events (SPEC §2.6),
with the presence bitmaps and the seat-days to rate moved by the difference."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from botbill.kit.batching import chunked, rows_in
from botbill.kit.db import among, insert_rows, table_of, upsert_insert
from botbill.metering import outbox, seat_presence
from botbill.metering.models import (
    AgentSeat,
    SeatInterval,
)
from botbill.metering.seats import SeatEvent, seat_intervals
from botbill.metering.seats import SeatInterval as Interval

CHUNK = 500
SEAT_CHUNK = 50

SeatKey = tuple[str, str]  # (app_id, agent_id)


def lock_seats(session: Session, *, workspace_id: str, keys: Iterable[SeatKey]) -> None:
    table = table_of(AgentSeat)
    rows = [
        {"workspace_id": workspace_id, "app_id": app, "agent_id": agent}
        for app, agent in sorted(keys)
    ]
    for start in range(0, len(rows), CHUNK):
        statement = upsert_insert(session)(table).on_conflict_do_update(
            index_elements=["workspace_id", "app_id", "agent_id"],
            set_={"agent_id": table.c.agent_id},
        )
        session.execute(statement, rows[start : start + CHUNK])


def apply_seats(
    session: Session, *, workspace_id: str, histories: Mapping[SeatKey, Sequence[SeatEvent]]
) -> None:
    """Bring the seat intervals of these (app, agent) pairs to their recomputed ones,
    writing only the intervals that changed, and move their presence bits to match."""
    table = table_of(SeatInterval)
    wanted = set(histories)
    stored: dict[SeatKey, dict[Interval, int]] = defaultdict(dict)
    for pairs in chunked(sorted(wanted), SEAT_CHUNK):
        query = select(
            table.c.id, table.c.app_id, table.c.agent_id, table.c.start, table.c.end
        ).where(
            rows_in(
                (table.c.workspace_id, table.c.app_id, table.c.agent_id),
                ((workspace_id, *pair) for pair in pairs),
            )
        )
        for row_id, app_id, agent_id, start, end in session.execute(query):
            stored[(app_id, agent_id)][Interval(start=start, end=end)] = row_id
    new = {key: seat_intervals(events) for key, events in histories.items()}
    # Sets, not the lists: a seat with months of shifts has hundreds of intervals.
    new_sets = {key: set(intervals) for key, intervals in new.items()}
    gone = [
        row_id
        for key in wanted
        for interval, row_id in stored[key].items()
        if interval not in new_sets[key]
    ]
    for ids in chunked(gone, CHUNK):
        session.execute(delete(SeatInterval).where(among(session, table.c.id, ids)))
    rows = [
        {
            "workspace_id": workspace_id,
            "app_id": app_id,
            "agent_id": agent_id,
            "start": i.start,
            "end": i.end,
        }
        for (app_id, agent_id), intervals in new.items()
        for i in intervals
        if i not in stored[(app_id, agent_id)]
    ]
    insert_rows(session, table, rows)
    changed: dict[str, list[Interval]] = defaultdict(list)
    for (app_id, agent_id), intervals in new_sets.items():
        held = stored[(app_id, agent_id)].keys()
        changed[app_id] += held - intervals  # the days they touch are queued, in any order
        changed[app_id] += intervals - held
    outbox.enqueue_changes(session, workspace_id=workspace_id, changes=changed)
    ordinal_of = seat_presence.ordinals(session, workspace_id=workspace_id, keys=wanted)
    seat_presence.apply_changes(
        session,
        workspace_id=workspace_id,
        changes={
            ordinal_of[key]: seat_presence.slot_changes(stored[key].keys(), new_sets[key])
            for key in wanted
        },
    )
