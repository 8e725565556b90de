"""The lifecycle job: keeps every subscription current without waiting for a read, and
tops balances up by auto-reload (SPEC §3.3, §3.5).

Reads never renew, order or charge anything (they show the state as it is, a renewal
due included); this job and explicit writes do. Renewals, expiries, scheduled downgrades
and promotional lapses happen here within an interval of their time, in every workspace,
and auto-reload orders get placed. Each run:

1. takes every subscription that is due (a period ended on a plan that renews or expires,
   a promotional credit expired, an app without a subscription yet) and brings it current
   (``plans.service.lock_current``);
2. places the auto-reload orders that are due (``wallet/auto_reload.py``).

Each app is handled in its own transaction with its subscription row locked, taken with
``SKIP LOCKED`` on PostgreSQL: several processes share a run, and whoever holds the lock
brings the row current first, after which nothing of it is due any more. So no period is
renewed twice and no dip gets two auto-reload orders. On SQLite writers take turns on the
database lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from botbill.kit.clock import Clock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import Micros
from botbill.ledger.entries import EntryKind
from botbill.ledger.models import LedgerEntry
from botbill.orders.providers import CardProvider, PaymentStatus
from botbill.plans.catalog_store import catalog
from botbill.plans.models import Subscription
from botbill.plans.renewals import lock_current
from botbill.plans.service import ACTIVE, EXPIRED
from botbill.wallet import auto_reload
from botbill.workspaces.models import App, Workspace

log = logging.getLogger(__name__)

AppKey = tuple[str, str]
"""``(workspace_id, app_id)``."""


class Step(Protocol):
    def __call__(
        self,
        engine: Engine,
        key: AppKey,
        *,
        cards: CardProvider,
        clock: Clock,
        counts: LifecycleCounts,
    ) -> None: ...


@dataclass(slots=True)
class LifecycleCounts:
    """What one run did."""

    taken: int = 0
    """Due apps this run locked and brought current (another process may have done the
    work between the look and the lock: then there was nothing left to do)."""
    rolled: int = 0
    """Subscriptions this run moved on to a new period (renewed, or a scheduled change)."""
    expired: int = 0
    """Subscriptions this run expired (renewal off or failed)."""
    reloads_paid: int = 0
    reloads_failed: int = 0
    skipped: int = 0
    """Apps another transaction held: it brings them current itself."""
    errors: int = 0
    """Apps whose work failed; logged, and tried again at the next run."""


def due_everywhere(session: Session, *, now: Micros) -> list[AppKey]:
    """Every app, in any workspace, whose subscription has something due at ``now``."""
    renewing = [code for code, plan in catalog(session).items() if not plan.is_trial]
    ended = select(Subscription.workspace_id, Subscription.app_id).where(
        Subscription.state == ACTIVE,
        Subscription.period_end <= now,
        Subscription.plan_code.in_(renewing),  # a trial just stops: nothing to write
    )
    lapse = aliased(LedgerEntry)
    lapsing = (
        select(LedgerEntry.workspace_id, LedgerEntry.app_id)
        .where(
            LedgerEntry.kind == EntryKind.PROMO_GRANT.value,
            LedgerEntry.expires_at <= now,
            ~select(lapse.id).where(lapse.lot_id == LedgerEntry.id).exists(),
        )
        .distinct()
    )
    missing = select(App.workspace_id, App.id).where(
        ~select(Subscription.app_id)
        .where(Subscription.workspace_id == App.workspace_id, Subscription.app_id == App.id)
        .exists()
    )
    keys: set[AppKey] = set()
    for query in (ended, lapsing, missing):
        keys.update((workspace_id, app_id) for workspace_id, app_id in session.execute(query))
    return sorted(keys)


def _take(session: Session, key: AppKey) -> bool:
    """Lock the app's subscription row unless another transaction holds it.

    An app without a subscription has no row to lock: it is taken, and a second process
    starting the same subscription fails on the primary key and rolls back.
    """
    workspace_id, app_id = key
    where = (Subscription.workspace_id == workspace_id, Subscription.app_id == app_id)
    locked = session.scalars(
        select(Subscription.app_id).where(*where).with_for_update(skip_locked=True)
    ).first()
    if locked is not None:
        return True
    return session.scalars(select(Subscription.app_id).where(*where)).first() is None


def _bring_one_current(
    engine: Engine, key: AppKey, *, cards: CardProvider, clock: Clock, counts: LifecycleCounts
) -> None:
    with unit_of_work(engine, write=True) as session:
        if not _take(session, key):
            counts.skipped += 1
            return
        workspace = session.get(Workspace, key[0])
        if workspace is None:
            return
        before = session.get(Subscription, key)
        state, period = (None, None) if before is None else (before.state, before.period_id)
        subscription = lock_current(session, workspace, key[1], cards=cards, now=clock.now())
    counts.taken += 1
    if period is not None and subscription.period_id != period:
        counts.rolled += 1
    if state == ACTIVE and subscription.state == EXPIRED:
        counts.expired += 1


def _reload_one(
    engine: Engine, key: AppKey, *, cards: CardProvider, clock: Clock, counts: LifecycleCounts
) -> None:
    with unit_of_work(engine, write=True) as session:
        if not _take(session, key):
            counts.skipped += 1
            return
        workspace = session.get(Workspace, key[0])
        if workspace is None:
            return
        now = clock.now()
        subscription = lock_current(session, workspace, key[1], cards=cards, now=now)
        order = auto_reload.reload_if_due(session, workspace, subscription, cards=cards, now=now)
    if order is None:
        return
    if order.payment_status == PaymentStatus.PAID.value:
        counts.reloads_paid += 1
    else:
        counts.reloads_failed += 1


def _reload_candidates(engine: Engine) -> list[AppKey]:
    """Apps below their threshold whose dip has not had its top-up (read without locks;
    each is decided again under its lock)."""
    with unit_of_work(engine, write=False) as session:
        keys = auto_reload.candidates(session)
        found = []
        for key in keys:
            subscription = session.get(Subscription, key)
            threshold = None if subscription is None else subscription.auto_reload_threshold
            if (
                subscription is not None
                and threshold is not None
                and auto_reload.armed(session, subscription, threshold=threshold)
            ):
                found.append(key)
        return found


def run_lifecycle(engine: Engine, clock: Clock, *, cards: CardProvider) -> LifecycleCounts:
    """One run over every workspace: bring due subscriptions current, then auto-reload.

    Safe to run in several threads or processes at once. ``cards`` charges the saved
    cards of renewals and auto-reloads (the worker passes the provider its settings name).
    """
    counts = LifecycleCounts()
    with unit_of_work(engine, write=False) as session:
        due = due_everywhere(session, now=clock.now())
    for key in due:
        _guarded(_bring_one_current, engine, key, cards=cards, clock=clock, counts=counts)
    for key in _reload_candidates(engine):
        _guarded(_reload_one, engine, key, cards=cards, clock=clock, counts=counts)
    return counts


def _guarded(
    step: Step,
    engine: Engine,
    key: AppKey,
    *,
    cards: CardProvider,
    clock: Clock,
    counts: LifecycleCounts,
) -> None:
    """One app's work: a failure is logged and counted, and the run goes on."""
    try:
        step(engine, key, cards=cards, clock=clock, counts=counts)
    except IntegrityError:
        counts.skipped += 1  # another process started the same subscription first
    except Exception:
        counts.errors += 1
        log.exception(
            "lifecycle work failed; retrying next run",
            extra={"workspace_id": key[0], "app_id": key[1]},
        )


def lifecycle_pass(engine: Engine, clock: Clock, *, cards: CardProvider) -> LifecycleCounts:
    """:func:`run_lifecycle` as the worker runs it (``engine/worker.py``)."""
    counts = run_lifecycle(engine, clock, cards=cards)
    if counts.taken or counts.reloads_paid or counts.reloads_failed or counts.errors:
        log.info("subscription lifecycle", extra=_fields(counts))
    return counts


def _fields(counts: LifecycleCounts) -> dict[str, int]:
    return {
        "taken": counts.taken,
        "rolled": counts.rolled,
        "expired": counts.expired,
        "reloads_paid": counts.reloads_paid,
        "reloads_failed": counts.reloads_failed,
        "errors": counts.errors,
    }
