"""Seat-days: each (app, local day) charged once for the seats held that day (SPEC §3.3).

- When seat intervals change (``metering.apply_seats``), the days they touched go into
  ``seat_day_queue``; a seat still held queues its days as the sweep passes them.
- Once a day has ended, the rater counts the app's seats that day, compares the count
  with what ``seat_day_charges`` holds and books only the difference, at the seat-day
  price of the plan in force at the day's start.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import NamedTuple

from sqlalchemy import delete, distinct, func, or_, select
from sqlalchemy.orm import Session

from botbill.kit.batching import chunked
from botbill.kit.db import among, insert_rows, table_of, upsert_insert
from botbill.kit.instants import Micros
from botbill.metering.models import SeatInterval
from botbill.metering.seats import SeatInterval as Interval
from botbill.orders.providers import CardProvider, card_provider
from botbill.plans.catalog import Plan
from botbill.plans.catalog_store import catalog
from botbill.plans.models import SubscriptionPeriod
from botbill.plans.service import lock_current
from botbill.rating.charges import period_at, periods_of
from botbill.rating.days import Day, days_touched
from botbill.rating.models import SeatDayCharge, SeatDayQueueEntry, SeatDaySweep
from botbill.settings import get_settings
from botbill.usage.buckets import local_day
from botbill.wallet.balances import book
from botbill.wallet.ledger import EntryKind
from botbill.wallet.rating import seat_days_amount
from botbill.workspaces.models import Workspace

CHUNK = 500
_queue = table_of(SeatDayQueueEntry)
_charges = table_of(SeatDayCharge)
_sweeps = table_of(SeatDaySweep)
_seats = table_of(SeatInterval)


def _enqueue(session: Session, workspace_id: str, days: Iterable[tuple[str, Day]]) -> None:
    """Append the days (never upsert: a row another rater holds must not absorb ours)."""
    rows = [
        {"workspace_id": workspace_id, "app_id": app_id, "day_start": d0, "day_end": d1}
        for app_id, (d0, d1) in sorted(set(days))
    ]
    for start in range(0, len(rows), CHUNK):
        insert_rows(session, _queue, rows[start : start + CHUNK])


def _swept_until(session: Session, workspace_id: str) -> Micros | None:
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
    swept = _swept_until(session, workspace_id)
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
    swept = _swept_until(session, workspace_id)
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


def unrated_days(
    session: Session, workspace: Workspace, app_ids: Collection[str], *, now: Micros
) -> dict[str, set[Day]]:
    """Per app, the ended days the rater has yet to rate: queued, or not swept yet.
    Read without taking anything."""
    q = _queue.c
    found: dict[str, set[Day]] = defaultdict(set)
    rows = session.execute(
        select(q.app_id, q.day_start, q.day_end).where(
            q.workspace_id == workspace.id, q.app_id.in_(app_ids), q.day_end <= now
        )
    )
    for app_id, d0, d1 in rows:
        found[app_id].add((d0, d1))
    today = local_day(now, workspace.timezone)[0]
    swept = _swept_until(session, workspace.id)
    if swept is None or swept < today:
        for app_id, day in unswept_days(session, workspace, swept=swept, today=today):
            if app_id in app_ids:
                found[app_id].add(day)
    return found


class DayCharge(NamedTuple):
    """What one app's seats on one ended day cost, beside what was booked for that day."""

    day: Day
    seats: int
    period: SubscriptionPeriod
    amount: int
    booked: SeatDayCharge | None

    @property
    def change(self) -> int:
        """The balance movement that books this day (negative: a charge). A day booked
        with the same seats stays as it was booked."""
        if self.booked is None:
            return -self.amount
        return 0 if self.booked.seats == self.seats else self.booked.amount - self.amount


def day_charges(
    session: Session,
    workspace_id: str,
    app_id: str,
    days: Iterable[Day],
    periods: Sequence[SubscriptionPeriod],
    plans: Mapping[str, Plan],
) -> list[DayCharge]:
    """Each day's seats counted now, priced at the plan in force at the day's start
    (SPEC §3.3); days without seats and without a booked charge are left out."""
    result = []
    for day in sorted(days):
        seats = seats_on(session, workspace_id, app_id, day)
        booked = session.get(SeatDayCharge, (workspace_id, app_id, day[0]))
        if booked is None and seats == 0:
            continue
        period = period_at(periods, day[0])
        amount = seat_days_amount(plans[period.plan_code], seats)
        result.append(DayCharge(day, seats, period, amount, booked))
    return result


def sweep_due(session: Session, *, workspace_id: str | None, now: Micros) -> list[str]:
    """The workspaces whose seats still held have local days the sweep has not passed."""
    s = _seats.c
    query = select(s.workspace_id).where(s.end.is_(None)).distinct()
    if workspace_id is not None:
        query = query.where(s.workspace_id == workspace_id)
    due = []
    for ws in session.scalars(query):
        workspace = session.get(Workspace, ws)
        swept = _swept_until(session, ws)
        if workspace is not None and (
            swept is None or swept < local_day(now, workspace.timezone)[0]
        ):
            due.append(ws)
    return due


def has_due_days(session: Session, *, workspace_id: str, app_id: str | None, now: Micros) -> bool:
    q = _queue.c
    query = select(q.day_start).where(q.workspace_id == workspace_id, q.day_end <= now)
    if app_id is not None:
        query = query.where(q.app_id == app_id)
    return session.execute(query.limit(1)).first() is not None


def rate_days(
    session: Session,
    *,
    now: Micros,
    workspace_id: str | None = None,
    app_id: str | None = None,
    limit: int = 2_000,
    cards: CardProvider | None = None,
) -> int:
    """Rate queued days that have ended; returns how many were taken."""
    q = _queue.c
    query = select(q.id, q.workspace_id, q.app_id, q.day_start, q.day_end).where(q.day_end <= now)
    if workspace_id is not None:
        query = query.where(q.workspace_id == workspace_id)
    if app_id is not None:
        query = query.where(q.app_id == app_id)
    query = query.order_by(q.workspace_id, q.app_id, q.day_start).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    taken = session.execute(query).all()
    by_app: dict[tuple[str, str], set[Day]] = defaultdict(set)
    for _id, ws, app, d0, d1 in taken:
        by_app[(ws, app)].add((d0, d1))
    for (ws, app), days in sorted(by_app.items()):  # in key order: no deadlocks
        _rate_app_days(session, ws, app, sorted(days), now=now, cards=cards)
    # Only the rows taken: a day queued again meanwhile keeps its row and is recounted.
    for ids in chunked([row[0] for row in taken], CHUNK):
        session.execute(delete(_queue).where(among(session, q.id, ids)))
    return len(taken)


def seats_on(session: Session, workspace_id: str, app_id: str, day: Day) -> int:
    """The app's distinct seats held at some instant of ``day`` (which has ended)."""
    s = _seats.c
    return (
        session.scalar(
            select(func.count(distinct(s.agent_id))).where(
                s.workspace_id == workspace_id,
                s.app_id == app_id,
                s.start < day[1],
                or_(s.end.is_(None), s.end > day[0]),
            )
        )
        or 0
    )


def _rate_app_days(
    session: Session,
    workspace_id: str,
    app_id: str,
    days: list[Day],
    *,
    now: Micros,
    cards: CardProvider | None,
) -> None:
    workspace = session.get(Workspace, workspace_id)
    assert workspace is not None
    if cards is None:
        cards = card_provider(get_settings().effective_card_provider)
    lock_current(session, workspace, app_id, cards=cards, now=now)
    periods = periods_of(session, workspace_id, app_id)
    change = 0
    for charge in day_charges(session, workspace_id, app_id, days, periods, catalog(session)):
        change += charge.change
        if charge.booked is None:
            session.add(
                SeatDayCharge(
                    workspace_id=workspace_id,
                    app_id=app_id,
                    day_start=charge.day[0],
                    day_end=charge.day[1],
                    seats=charge.seats,
                    period_id=charge.period.id,
                    plan_code=charge.period.plan_code,
                    amount=charge.amount,
                    currency=workspace.currency,
                    rated_at=now,
                )
            )
        elif charge.booked.seats != charge.seats:
            booked = charge.booked
            booked.seats, booked.amount, booked.rated_at = charge.seats, charge.amount, now
    if change:
        book(
            session,
            workspace_id=workspace_id,
            app_id=app_id,
            currency=workspace.currency,
            kind=EntryKind.SEAT_DAYS,
            amount=change,
            at=now,
            reference="seat-days",
        )
    session.flush()
