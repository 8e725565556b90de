"""Seat-days: each (app, local day) charged once for the seats held that day (SPEC §3.3).

- When seat intervals change, metering queues the days they touched in
  ``seat_day_queue`` (``metering/outbox.py``); a seat still held queues its days as the
  sweep passes them.
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
from botbill.kit.days import Day, local_day
from botbill.kit.db import among, table_of
from botbill.kit.instants import Micros
from botbill.ledger.balances import book
from botbill.ledger.entries import EntryKind
from botbill.metering.models import SeatDayQueueEntry, SeatDaySweep, SeatInterval
from botbill.metering.outbox import swept_until, unswept_days
from botbill.plans.catalog import Plan
from botbill.plans.catalog_store import catalog
from botbill.plans.models import SubscriptionPeriod
from botbill.plans.service import lock_subscription, unopened_from
from botbill.rating.charges import period_at, periods_of
from botbill.rating.models import SeatDayCharge
from botbill.rating.rules import seat_days_amount
from botbill.workspaces.models import Workspace

CHUNK = 500
_queue = table_of(SeatDayQueueEntry)
_charges = table_of(SeatDayCharge)
_sweeps = table_of(SeatDaySweep)
_seats = table_of(SeatInterval)


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
    swept = swept_until(session, workspace.id)
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
) -> int:
    """Rate queued days that have ended; returns how many queue rows were rated and
    removed (a day that starts where the app's next period is not opened yet stays)."""
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
    waiting: set[tuple[str, str, Day]] = set()
    for (ws, app), days in sorted(by_app.items()):  # in key order: no deadlocks
        later = _rate_app_days(session, ws, app, sorted(days), now=now)
        waiting.update((ws, app, day) for day in later)
    # Only the rows taken: a day queued again meanwhile keeps its row and is recounted.
    done = [row[0] for row in taken if (row[1], row[2], (row[3], row[4])) not in waiting]
    for ids in chunked(done, CHUNK):
        session.execute(delete(_queue).where(among(session, q.id, ids)))
    return len(done)


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
) -> list[Day]:
    """Book the app's days; returns the days left waiting for the next period."""
    workspace = session.get(Workspace, workspace_id)
    assert workspace is not None
    subscription = lock_subscription(session, workspace_id, app_id)
    plans = catalog(session)
    opens = unopened_from(subscription, plans[subscription.plan_code])
    later = [] if opens is None else [day for day in days if day[0] >= opens]
    days = [day for day in days if day not in later]
    periods = periods_of(session, workspace_id, app_id)
    change = 0
    for charge in day_charges(session, workspace_id, app_id, days, periods, plans):
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
    return later
