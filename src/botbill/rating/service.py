"""The rater: takes what the rating queue holds, charges it, and empties the queue.

It runs in the engine's job thread every few seconds (charges reach the balance within
seconds of completion, SPEC §3.3), and before any read that shows a balance or answers
an entitlement check, for the app being read, so those answers are exact at their
``now``. On PostgreSQL several processes drain at once: each takes rows with
``SKIP LOCKED`` and rates an app only under its subscription's row lock.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Literal, NamedTuple, cast

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from botbill.kit.batching import chunked
from botbill.kit.clock import Clock
from botbill.kit.db import among, table_of, unit_of_work
from botbill.kit.instants import Micros
from botbill.metering import outbox
from botbill.metering.models import RatingQueueEntry
from botbill.plans.catalog import ChargeType
from botbill.rating import seat_days
from botbill.rating.charges import UsageCharge, rate
from botbill.rating.queue import still_completed

log = logging.getLogger(__name__)

BATCH = 5_000
CHUNK = 500
_queue = table_of(RatingQueueEntry)


def drain(
    session: Session,
    *,
    now: Micros,
    workspace_id: str | None = None,
    app_id: str | None = None,
    limit: int = BATCH,
) -> Drained:
    """Rate up to ``limit`` queued rows, app by app (each app's oldest first).

    Taking an app's rows together pays its fixed cost (its lock, its ledger entry) once
    for all of them rather than once per batch: with rows spread over 500 apps,
    oldest-first batches gave each app ~10 rows.

    Each app is rated under a savepoint: an app whose rating fails keeps its rows queued
    for the next run and is logged; the other apps' rows are rated and removed. Rows of
    sessions that start where the app's next period is not opened yet stay queued too,
    until the lifecycle job opens it.

    A charge is dropped when its billing session no longer exists (a later recomputation
    replaced it; that one is queued on its own), checked under the app's lock, so nothing
    is charged for a session that is gone, whatever order concurrent raters take rows in.
    """
    q = _queue.c
    query = select(
        q.id, q.workspace_id, q.app_id, q.billing_session_id, q.type, q.start, q.sign
    ).order_by(q.workspace_id, q.app_id, q.id)
    if workspace_id is not None:
        query = query.where(q.workspace_id == workspace_id)
    if app_id is not None:
        query = query.where(q.app_id == app_id)
    query = query.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = session.execute(query).all()
    if not rows:
        return Drained(0, 0)
    by_app: dict[tuple[str, str], list[UsageCharge]] = defaultdict(list)
    row_ids: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row_id, ws, app, billing_session_id, kind, start, sign in rows:
        by_app[(ws, app)].append(
            UsageCharge(
                billing_session_id, app, ChargeType(kind), start, cast(Literal[1, -1], sign)
            )
        )
        row_ids[(ws, app)].append(row_id)
    done: list[int] = []
    for ws, app in sorted(by_app):  # in key order: concurrent raters never deadlock
        try:
            with session.begin_nested():  # one app's failure keeps its rows, not the others'
                summary = rate(
                    session,
                    workspace_id=ws,
                    charges=by_app[(ws, app)],
                    now=now,
                    still_completed=still_completed,
                )
        except Exception:
            log.exception("rating failed; kept queued", extra={"workspace": ws, "app": app})
            continue
        done += [
            row_id
            for row_id, charge in zip(row_ids[(ws, app)], by_app[(ws, app)], strict=True)
            if charge.sign < 0 or charge.billing_session_id not in summary.waiting
        ]
    for ids in chunked(done, CHUNK):
        session.execute(delete(_queue).where(among(session, q.id, ids)))
    return Drained(len(rows), len(done))


class Drained(NamedTuple):
    taken: int
    rated: int
    """Taken and removed from the queue; the rest stays queued (failed, or waiting)."""


def run_rating(
    engine: Engine, clock: Clock, *, workspace_id: str | None = None, app_id: str | None = None
) -> int:
    """Drain the queue (or one workspace's or app's part of it); returns rows rated."""
    total = 0
    while True:
        with unit_of_work(engine, write=True) as session:
            drained = drain(session, now=clock.now(), workspace_id=workspace_id, app_id=app_id)
        total += drained.rated
        if drained.taken < BATCH or drained.rated == 0:
            return total


def run_seat_days(
    engine: Engine, clock: Clock, *, workspace_id: str | None = None, app_id: str | None = None
) -> int:
    """Sweep held seats into the days that ended, then rate every ended day queued."""
    with unit_of_work(engine, write=False) as session:
        due = outbox.sweep_due(session, workspace_id=workspace_id, now=clock.now())
    for ws in due:
        with unit_of_work(engine, write=True) as session:
            outbox.sweep(session, workspace_id=ws, now=clock.now())
    total = 0
    while True:
        with unit_of_work(engine, write=True) as session:
            rated = seat_days.rate_days(
                session, now=clock.now(), workspace_id=workspace_id, app_id=app_id
            )
        total += rated
        if rated == 0:
            return total
