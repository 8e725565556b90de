"""What metering hands to the rater, written in the transaction that changes the usage.

- ``rating_queue``: each completed billing session that appeared (+1, to charge) or
  disappeared (-1, to refund).
- ``seat_day_queue``: each local day whose seats changed; a seat still held queues its
  days as the sweep passes them (``seat_day_sweeps``).

Both queues are append-only: the rater deletes exactly the rows it took, so work queued
while a rater is busy is never merged into what it is rating.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from botbill.kit.days import Day, days_touched, local_day
from botbill.kit.db import insert_rows, table_of, upsert_insert
from botbill.kit.instants import Micros
from botbill.metering.models import RatingQueueEntry, SeatDayQueueEntry, SeatDaySweep, SeatInterval
from botbill.metering.seats import SeatInterval as Interval
from botbill.workspaces.models import Workspace

CHUNK = 500
_rating_queue = table_of(RatingQueueEntry)
_day_queue = table_of(SeatDayQueueEntry)
_sweeps = table_of(SeatDaySweep)
_seats = table_of(SeatInterval)


class Rated(NamedTuple):
    """One billing session to charge (``sign`` +1) or to refund (-1)."""

    app_id: str
    billing_session_id: int
    type: str
    start: Micros
    sign: Literal[1, -1]


def enqueue(session: Session, *, workspace_id: str, entries: Sequence[Rated]) -> None:
    if not entries:
        return
    insert_rows(
        session,
        _rating_queue,
        [
            {
                "workspace_id": workspace_id,
                "app_id": entry.app_id,
                "billing_session_id": entry.billing_session_id,
                "type": entry.type,
                "start": entry.start,
                "sign": entry.sign,
            }
            for entry in entries
        ],
    )


def _enqueue(session: Session, workspace_id: str, days: Iterable[tuple[str, Day]]) -> None:
    """Append the days (never upsert: a row another rater holds must not absorb ours)."""
    rows = [
        {"workspace_id": workspace_id, "app_id": app_id, "day_start": d0, "day_end": d1}
        for app_id, (d0, d1) in sorted(set(days))
    ]
    for start in range(0, len(rows), CHUNK):
        insert_rows(session, _day_queue, rows[start : start + CHUNK])


def swept_until(session: Session, workspace_id: str) -> Micros | None:
    return session.scalar(
        select(_sweeps.c.swept_until).where(_sweeps.c.workspace_id == workspace_id)
    )


def enqueue_changes(
    session: Session, *, workspace_id: str, changes: Mapping[str, Sequence[Interval]]
) -> None:
    """Queue the days touched by intervals that appeared or disappeared, per app.

    A held seat's days are queued up to where the sweep has already passed (it will not
    come back for them); the sweep queues the rest as they end.
    """
    if not any(changes.values()):
        return
    workspace = session.get(Workspace, workspace_id)
    assert workspace is not None  # events are stored for known workspaces only
    swept = swept_until(session, workspace_id)
    days: list[tuple[str, Day]] = []
    for app_id, intervals in changes.items():
        for interval in intervals:
            end = interval.end
            if end is None:
                end = max(interval.start + 1, swept or 0)
            days.extend(
                (app_id, day) for day in days_touched(interval.start, end, workspace.timezone)
            )
    _enqueue(session, workspace_id, days)


def sweep(session: Session, *, workspace_id: str, now: Micros) -> int:
    """Queue the ended days of seats still held, since the last sweep; returns how many."""
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        return 0
    today = local_day(now, workspace.timezone)[0]
    swept = swept_until(session, workspace_id)
    if swept is not None and swept >= today:
        return 0
    days = unswept_days(session, workspace, swept=swept, today=today)
    _enqueue(session, workspace_id, days)
    statement = upsert_insert(session)(_sweeps).values(workspace_id=workspace_id, swept_until=today)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["workspace_id"], set_={"swept_until": today}
        )
    )
    return len(days)


def unswept_days(
    session: Session, workspace: Workspace, *, swept: Micros | None, today: Micros
) -> list[tuple[str, Day]]:
    """The ended local days of seats still held that the sweep has not queued yet."""
    s = _seats.c
    open_seats = session.execute(
        select(s.app_id, func.min(s.start))
        .where(s.workspace_id == workspace.id, s.end.is_(None), s.start < today)
        .group_by(s.app_id)
    ).all()
    return [
        (app_id, day)
        for app_id, start in open_seats
        for day in days_touched(max(start, swept or start), today, workspace.timezone)
    ]


def sweep_due(session: Session, *, workspace_id: str | None, now: Micros) -> list[str]:
    """The workspaces whose seats still held have local days the sweep has not passed."""
    s = _seats.c
    query = select(s.workspace_id).where(s.end.is_(None)).distinct()
    if workspace_id is not None:
        query = query.where(s.workspace_id == workspace_id)
    due = []
    for ws in session.scalars(query):
        workspace = session.get(Workspace, ws)
        swept = swept_until(session, ws)
        if workspace is not None and (
            swept is None or swept < local_day(now, workspace.timezone)[0]
        ):
            due.append(ws)
    return due
