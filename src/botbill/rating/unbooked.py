"""What the rater has yet to book, read without taking it (SPEC §3.3, docs/rules.md).

A balance or subscription read adds this to what is booked. It reads the rating queue
and the seat-day queue without locking them and applies the rater's own rules
(:func:`botbill.rating.outcome.rate_app`, :func:`botbill.rating.seat_days.day_charges`),
so it never waits for a rater and never skips what a rater holds. Read in one snapshot
(``unit_of_work(..., snapshot=True)``): a rater commits its charges and the removal of
their queue rows together, so each charge is seen exactly once, booked or queued.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.kit.db import table_of
from botbill.kit.instants import Micros
from botbill.metering.models import RatingQueueEntry
from botbill.plans.catalog import ChargeType
from botbill.plans.catalog_store import catalog
from botbill.plans.models import Subscription
from botbill.plans.service import unopened_from
from botbill.rating.charges import UsageCharge, outcome_for, periods_of, split_waiting
from botbill.rating.queue import still_completed
from botbill.rating.rules import Allowance
from botbill.rating.seat_days import day_charges, unrated_days
from botbill.workspaces.models import Workspace

_queue = table_of(RatingQueueEntry).c


@dataclass(frozen=True, slots=True)
class Sessions:
    """Billing sessions rated into a period, by unit."""

    usage: int = 0
    alert: int = 0
    voice: int = 0

    def __add__(self, other: Sessions) -> Sessions:
        return Sessions(
            self.usage + other.usage, self.alert + other.alert, self.voice + other.voice
        )


@dataclass(frozen=True, slots=True)
class Unbooked:
    """What the rater has yet to book for one app (its queued charges and seat-days):
    a read adds it to what is booked, so it shows what the rater will book, whoever is
    rating at that instant."""

    balance_change: int = 0
    remaining: Mapping[int, Allowance] = field(default_factory=dict)
    """Per period id: the allowance left once the queued charges are rated."""
    sessions: Mapping[int, Sessions] = field(default_factory=dict)
    """Per period id: the sessions the queued charges add (refunds subtract)."""


NOTHING_UNBOOKED = Unbooked()

_UNITS = (ChargeType.USAGE, ChargeType.ALERT, ChargeType.VOICE)


def unbooked(
    session: Session, workspace: Workspace, app_ids: Collection[str], *, now: Micros
) -> dict[str, Unbooked]:
    """Per app (of ``app_ids`` that have anything waiting): what the rater will book."""
    if not app_ids:
        return {}
    queued: dict[str, list[UsageCharge]] = defaultdict(list)
    rows = session.execute(
        select(
            _queue.app_id, _queue.billing_session_id, _queue.type, _queue.start, _queue.sign
        ).where(_queue.workspace_id == workspace.id, _queue.app_id.in_(list(app_ids)))
    )
    for app_id, session_id, kind, start, sign in rows:
        queued[app_id].append(
            UsageCharge(session_id, app_id, ChargeType(kind), start, cast(Literal[1, -1], sign))
        )
    days = unrated_days(session, workspace, set(app_ids), now=now)
    result: dict[str, Unbooked] = {}
    plans = catalog(session)
    for app_id in sorted(queued.keys() | days.keys()):
        periods = periods_of(session, workspace.id, app_id)
        if not periods:
            continue
        subscription = session.get(Subscription, (workspace.id, app_id))
        if subscription is None:
            continue
        opens = unopened_from(subscription, plans[subscription.plan_code])
        charges, _ = split_waiting(queued.get(app_id, []), subscription, plans)
        alive = still_completed(
            session, workspace.id, sorted({c.billing_session_id for c in charges if c.sign > 0})
        )
        charges = [c for c in charges if c.sign < 0 or c.billing_session_id in alive]
        outcome = outcome_for(session, workspace.id, periods, charges)
        ended = [day for day in days.get(app_id, ()) if opens is None or day[0] < opens]
        seat_days = day_charges(session, workspace.id, app_id, ended, periods, plans)
        result[app_id] = Unbooked(
            balance_change=outcome.balance_change + sum(day.change for day in seat_days),
            remaining={period_id: t.remaining for period_id, t in outcome.tallies.items()},
            sessions={
                period_id: Sessions(
                    t.counts[ChargeType.USAGE],
                    t.counts[ChargeType.ALERT],
                    t.counts[ChargeType.VOICE],
                )
                for period_id, t in outcome.tallies.items()
            },
        )
    return result
