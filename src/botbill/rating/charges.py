"""Charging billing sessions to an app's allowance and balance, each exactly once.

Services flush; the caller commits. The charge of a session is a row of ``usage_charges``
keyed by its billing-session id: a second charge of the same session finds it and changes
nothing, and a refund marks it refunded and gives back exactly what it took.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import BigInteger, bindparam, func, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from botbill.kit.batching import chunked
from botbill.kit.db import among, insert_rows, table_of
from botbill.kit.instants import Micros
from botbill.kit.problems import NotFound
from botbill.ledger.balances import book
from botbill.ledger.entries import EntryKind
from botbill.plans.catalog import ChargeType, Plan
from botbill.plans.catalog_store import catalog
from botbill.plans.models import Subscription, SubscriptionPeriod
from botbill.plans.service import lock_subscription, unopened_from
from botbill.rating.models import UsageCharge as UsageChargeRow
from botbill.rating.outcome import (
    Charge,
    Outcome,
    PeriodState,
    PeriodTally,
    StoredCharge,
    period_index,
    rate_app,
)
from botbill.rating.rules import Allowance, Draw, Pool
from botbill.workspaces.models import Workspace

CHUNK = 500
_charges = table_of(UsageChargeRow)

StillCompleted = Callable[[Session, str, list[int]], set[int]]
"""``(session, workspace_id, billing-session ids)`` → the ids still completed."""


@dataclass(frozen=True, slots=True)
class UsageCharge:
    """One completed billing session to charge (+1), or one that disappeared to refund (-1)."""

    billing_session_id: int
    app_id: str
    type: ChargeType
    start: Micros
    sign: Literal[1, -1]


@dataclass(frozen=True, slots=True)
class RatingSummary:
    charged: int
    refunded: int
    ignored: int
    """Charges already booked, and refunds of sessions never charged (or refunded twice)."""
    balance_change: int
    waiting: frozenset[int] = frozenset()
    """Sessions to charge that start where no period is open yet: left for later."""


def rate(
    session: Session,
    *,
    workspace_id: str,
    charges: Sequence[UsageCharge],
    now: Micros,
    still_completed: StillCompleted | None = None,
) -> RatingSummary:
    """Charge or refund billing sessions, each exactly once (SPEC §3.3).

    Each session is rated in the period holding its start (before the first period: the
    first), at that period's plan. Within a call refunds go first (they free allowance),
    then charges in the order they start. A repeated charge or refund changes nothing.
    One ledger entry per app and direction carries the call's total.

    Rating locks each app's subscription and takes it as it is: it never renews. A
    session that starts where the next period is not opened yet waits (``waiting``) for
    the lifecycle job to open it.

    ``still_completed`` (the rater's) keeps, of the sessions to charge, those that still
    exist. It is asked under the app's subscription lock: a session deleted by a later
    recomputation is then either seen gone here, or its refund waits for this charge.
    """
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound(f"no workspace {workspace_id!r}")
    by_app: dict[str, list[UsageCharge]] = defaultdict(list)
    for charge in charges:
        by_app[charge.app_id].append(charge)
    charged = refunded = ignored = change = 0
    waiting: set[int] = set()
    for app_id in sorted(by_app):  # in key order: concurrent raters never deadlock
        result = _rate_app(
            session, workspace, app_id, by_app[app_id], now=now, still_completed=still_completed
        )
        charged += result.charged
        refunded += result.refunded
        ignored += result.ignored
        change += result.balance_change
        waiting |= result.waiting
    return RatingSummary(charged, refunded, ignored, change, frozenset(waiting))


def periods_of(session: Session, workspace_id: str, app_id: str) -> list[SubscriptionPeriod]:
    return list(
        session.scalars(
            select(SubscriptionPeriod)
            .where(
                SubscriptionPeriod.workspace_id == workspace_id,
                SubscriptionPeriod.app_id == app_id,
            )
            .order_by(SubscriptionPeriod.start, SubscriptionPeriod.id)
        )
    )


def period_at(periods: Sequence[SubscriptionPeriod], instant: Micros) -> SubscriptionPeriod:
    """The period holding ``instant``; before the first period, the first (a backfill)."""
    return periods[period_index([period.start for period in periods], instant)]


def remaining_allowance(period: SubscriptionPeriod) -> Allowance:
    return Allowance(
        max(period.included_billing - period.drawn_billing, 0),
        max(period.included_voice - period.drawn_voice, 0),
    )


def period_states(periods: Sequence[SubscriptionPeriod]) -> list[PeriodState]:
    return [PeriodState(p.id, p.start, p.plan_code, remaining_allowance(p)) for p in periods]


def stored_charges(
    session: Session, workspace_id: str, ids: Sequence[int]
) -> dict[int, StoredCharge]:
    """The booked charges of these billing sessions (refunded or not), by session id."""
    stored: dict[int, StoredCharge] = {}
    c = _charges.c
    columns = (c.billing_session_id, c.period_id, c.type, c.pool, c.units, c.amount, c.refunded_at)
    postgresql = session.get_bind().dialect.name == "postgresql"
    for part in chunked(ids, CHUNK):
        if postgresql:
            # One primary-key lookup per id, whatever the statistics say. This table
            # fills faster than autovacuum analyzes it, and with stale statistics every
            # plain form read all the workspace's charges: an IN list, a join on
            # unnest(ids), ``= ANY(ids)``. A LATERAL subquery with an OFFSET cannot be
            # merged into a join, so each id probes the key.
            wanted = (
                func.unnest(bindparam("ids", list(part), type_=ARRAY(BigInteger)))
                .table_valued("id")
                .render_derived(name="wanted")
            )
            charge = (
                select(*columns)
                .where(c.workspace_id == workspace_id, c.billing_session_id == wanted.c.id)
                .offset(0)
                .lateral("charge")
            )
            query = select(*charge.c).select_from(wanted.join(charge, true()))
        else:
            query = select(*columns).where(
                c.workspace_id == workspace_id, c.billing_session_id.in_(part)
            )
        for session_id, period_id, type_, pool, units, amount, refunded_at in session.execute(
            query
        ):
            stored[session_id] = StoredCharge(
                period_id,
                ChargeType(type_),
                Draw(Pool(pool), units, amount),
                refunded=refunded_at is not None,
            )
    return stored


def outcome_for(
    session: Session,
    workspace_id: str,
    periods: Sequence[SubscriptionPeriod],
    charges: Sequence[UsageCharge],
) -> Outcome:
    """What rating ``charges`` (one app's) would do, read from the database as it is."""
    stored = stored_charges(
        session, workspace_id, sorted({charge.billing_session_id for charge in charges})
    )
    return rate_app(
        [Charge(c.billing_session_id, c.type, c.start, c.sign) for c in charges],
        periods=period_states(periods),
        plans=catalog(session),
        stored=stored,
    )


def _rate_app(
    session: Session,
    workspace: Workspace,
    app_id: str,
    charges: list[UsageCharge],
    *,
    now: Micros,
    still_completed: StillCompleted | None,
) -> RatingSummary:
    subscription = lock_subscription(session, workspace.id, app_id)
    charges, later = split_waiting(charges, subscription, catalog(session))
    if still_completed is not None:
        to_charge = [c.billing_session_id for c in charges if c.sign > 0]
        alive = still_completed(session, workspace.id, sorted(set(to_charge)))
        charges = [c for c in charges if c.sign < 0 or c.billing_session_id in alive]
    periods = periods_of(session, workspace.id, app_id)
    outcome = outcome_for(session, workspace.id, periods, charges)
    for period in periods:
        _write_back(period, outcome.tallies[period.id])
    new_rows = [
        {
            "workspace_id": workspace.id,
            "billing_session_id": new.billing_session_id,
            "app_id": app_id,
            "type": new.type.value,
            "start": new.start,
            "period_id": new.period_id,
            "plan_code": new.plan_code,
            "pool": new.draw.pool.value,
            "units": new.draw.units,
            "amount": new.draw.amount,
            "currency": workspace.currency,
            "charged_at": now,
        }
        for new in outcome.new_charges
    ]
    refunded_ids = outcome.refunded_ids
    debit, credit = outcome.debit, outcome.credit
    for ids in chunked(refunded_ids, CHUNK):
        session.execute(
            update(_charges)
            .where(
                _charges.c.workspace_id == workspace.id,
                among(session, _charges.c.billing_session_id, ids),
            )
            .values(refunded_at=now)
        )
    for rows in chunked(new_rows, CHUNK):
        insert_rows(session, _charges, rows)
    for kind, amount in ((EntryKind.USAGE, -debit), (EntryKind.USAGE_REFUND, credit)):
        if amount:
            book(
                session,
                workspace_id=workspace.id,
                app_id=app_id,
                currency=workspace.currency,
                kind=kind,
                amount=amount,
                at=now,
                reference="rating",
            )
    session.flush()
    return RatingSummary(
        len(new_rows),
        len(refunded_ids),
        outcome.ignored,
        credit - debit,
        frozenset(charge.billing_session_id for charge in later),
    )


def split_waiting(
    charges: Sequence[UsageCharge], subscription: Subscription, plans: Mapping[str, Plan]
) -> tuple[list[UsageCharge], list[UsageCharge]]:
    """The charges to rate now, and those that wait for the next period to open."""
    opens = unopened_from(subscription, plans[subscription.plan_code])
    if opens is None:
        return list(charges), []
    now_ = [c for c in charges if c.sign < 0 or c.start < opens]
    later = [c for c in charges if c.sign > 0 and c.start >= opens]
    return now_, later


def _write_back(period: SubscriptionPeriod, tally: PeriodTally) -> None:
    """A period's draws and session counts, as rating left them."""
    remaining = tally.remaining
    if remaining != remaining_allowance(period):
        period.drawn_billing = period.included_billing - remaining.billing
        period.drawn_voice = period.included_voice - remaining.voice
    if tally.counts[ChargeType.USAGE]:
        period.usage_sessions += tally.counts[ChargeType.USAGE]
    if tally.counts[ChargeType.ALERT]:
        period.alert_sessions += tally.counts[ChargeType.ALERT]
    if tally.counts[ChargeType.VOICE]:
        period.voice_sessions += tally.counts[ChargeType.VOICE]
