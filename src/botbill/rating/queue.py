"""The rating queue: billing sessions to charge or refund, written with the metering diff.

Metering appends here in the transaction that completes, replaces or removes a billing
session, so the queue holds exactly what the balance has not seen yet; the rater
(:mod:`botbill.rating.service`) takes rows from it, rates them and deletes them.
"""

from __future__ import annotations

from sqlalchemy import insert, literal, select
from sqlalchemy.orm import Session

from botbill.kit.batching import chunked
from botbill.kit.db import among, table_of
from botbill.metering.models import BillingSession, RatingQueueEntry
from botbill.rating.models import UsageCharge

CHUNK = 500
_queue = table_of(RatingQueueEntry)
_bs = table_of(BillingSession).c


def refund_all(session: Session, *, workspace_id: str) -> None:
    """Queue the refund of every charge of the workspace that is not refunded yet."""
    charges = table_of(UsageCharge).c
    session.execute(
        insert(_queue).from_select(
            ["workspace_id", "app_id", "billing_session_id", "type", "start", "sign"],
            select(
                charges.workspace_id,
                charges.app_id,
                charges.billing_session_id,
                charges.type,
                charges.start,
                literal(-1),
            ).where(charges.workspace_id == workspace_id, charges.refunded_at.is_(None)),
        )
    )


def has_pending(session: Session, *, workspace_id: str, app_id: str | None = None) -> bool:
    query = select(_queue.c.id).where(_queue.c.workspace_id == workspace_id)
    if app_id is not None:
        query = query.where(_queue.c.app_id == app_id)
    return session.execute(query.limit(1)).first() is not None


def still_completed(session: Session, workspace_id: str, ids: list[int]) -> set[int]:
    """Of these billing sessions, those that still exist and are completed."""
    found: set[int] = set()
    for part in chunked(ids, CHUNK):
        # By primary key alone: with the workspace in the WHERE clause SQLite would walk
        # the workspace's index instead; the workspace is checked here.
        query = select(_bs.id, _bs.workspace_id, _bs.completed).where(among(session, _bs.id, part))
        found.update(
            row_id
            for row_id, ws, completed in session.execute(query)
            if ws == workspace_id and completed
        )
    return found
