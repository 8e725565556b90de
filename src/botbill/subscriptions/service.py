"""Subscriptions as admins and the runtime see them, and the admins' writes on them.

Reads (the Plan list, an app's subscription, entitlement) first settle what the events
already decided for the workspace (``metering.jobs.settle``), then read in one snapshot
what is booked plus what the rater has yet to book (``rating/unbooked.py``). They never
renew, order or charge anything: renewals, expiries and auto-reloads belong to the
lifecycle job (``engine/lifecycle.py``) and to explicit writes.

Writes run in the caller's unit of work and record their audit entry here, the same
whichever way the action came in; only the actor differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from botbill.audit.service import Action, Actor, record, target
from botbill.kit.clock import Clock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import Micros
from botbill.kit.pagination import cut_page
from botbill.kit.problems import NotFound
from botbill.ledger.balances import balance_of
from botbill.metering.jobs import settle
from botbill.metering.pending import oldest_pending
from botbill.metering.service import oldest_due
from botbill.orders import idempotency
from botbill.orders.providers import CardProvider, PaymentMethod
from botbill.orders.schemas import order_out
from botbill.plans import renewals, switching
from botbill.plans import service as plans
from botbill.plans.catalog_store import catalog
from botbill.plans.changes import ChangeKind
from botbill.plans.models import Subscription, SubscriptionPeriod
from botbill.rating.unbooked import NOTHING_UNBOOKED, Unbooked, unbooked
from botbill.subscriptions.entitlement import Decision, decide
from botbill.subscriptions.overview import Overview, facts_of, overviews
from botbill.subscriptions.schemas import (
    PlanChangeOut,
    PlanChangeRequest,
    SubscriptionDetail,
    SubscriptionSettings,
    SubscriptionSummary,
    detail_of,
    summary_of,
)
from botbill.wallet import auto_reload
from botbill.workspaces.models import App, Workspace
from botbill.workspaces.service import get_app, get_workspace, list_apps, owner_emails

# --- reads ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanListPage:
    items: list[SubscriptionSummary]
    next_cursor: str | None


def plan_list(
    engine: Engine,
    clock: Clock,
    *,
    workspace_id: str,
    after: str | None,
    limit: int,
    low_balance: int,
) -> PlanListPage:
    """The Plan list: every app's plan, status, balance, period end and notices."""
    settle(engine, clock, workspace_id=workspace_id)
    now = clock.now()
    with unit_of_work(engine, write=False, snapshot=True) as session:
        workspace = get_workspace(session, workspace_id)
        apps, next_cursor = cut_page(
            list_apps(session, workspace.id, after=after, limit=limit + 1),
            limit,
            lambda a: [a.id],
        )
        emails = owner_emails(session, apps)
        pending = unbooked(session, workspace, [app.id for app in apps], now=now)
        found = overviews(
            session, workspace, apps, now=now, low_balance=low_balance, unbooked=pending
        )
        items = [summary_of(overview, workspace, emails) for overview in found]
    return PlanListPage(items, next_cursor)


def subscription_detail(
    engine: Engine, clock: Clock, *, workspace_id: str, app_id: str, low_balance: int
) -> SubscriptionDetail:
    """An app's subscription: the Plan list's fields, this period's allowance and use."""
    with unit_of_work(engine, write=False) as session:
        get_app(session, workspace_id, app_id)
    settle(engine, clock, workspace_id=workspace_id)
    now = clock.now()
    with unit_of_work(engine, write=False, snapshot=True) as session:
        workspace = get_workspace(session, workspace_id)
        app = get_app(session, workspace.id, app_id)
        pending = unbooked(session, workspace, [app.id], now=now)
        overview = _overview(
            session, workspace, app, now=now, low_balance=low_balance, pending=pending
        )
        return detail_of(overview, workspace, owner_emails(session, [app]))


@dataclass(frozen=True, slots=True)
class Entitlement:
    decision: Decision
    as_of: Micros
    """Every event acknowledged before this instant is in the answer."""


def entitlement(engine: Engine, clock: Clock, *, workspace_id: str, app_id: str) -> Entitlement:
    """May the app answer now (SPEC §3.4)? One read transaction, one snapshot: it never
    waits on metering, rating or another transaction's locks. What depends on the clock
    alone (a trial or period that ended, a cancellation) is exact at ``now``; usage and
    charges are what metering had settled by ``as_of`` (charges the rater has yet to book
    count), a few seconds behind ``now`` at most while ingest runs ahead of metering."""
    now = clock.now()
    with unit_of_work(engine, write=False, snapshot=True) as session:
        workspace = get_workspace(session, workspace_id)
        get_app(session, workspace.id, app_id)
        answer = decision(session, workspace, app_id, now=now)
        behind = [
            instant
            for instant in (
                oldest_pending(session, workspace_id=workspace.id),
                oldest_due(session, workspace_id=workspace.id, now=now),
            )
            if instant is not None
        ]
        return Entitlement(answer, min([now, *behind]))


def decision(session: Session, workspace: Workspace, app_id: str, *, now: Micros) -> Decision:
    """The entitlement decision as the session sees the database: what is booked, plus
    what the rater has yet to book (read it in a snapshot)."""
    subscription = session.get(Subscription, (workspace.id, app_id))
    if subscription is None:
        raise NotFound(f"app {app_id!r} has no subscription yet")
    period = session.get(SubscriptionPeriod, subscription.period_id)
    assert period is not None
    plan = catalog(session)[subscription.plan_code]
    balance = balance_of(session, workspace.id, app_id, now)
    pending = unbooked(session, workspace, [app_id], now=now).get(app_id, NOTHING_UNBOOKED)
    return decide(facts_of(subscription, plan, period, balance, pending), now)


def _overview(
    session: Session,
    workspace: Workspace,
    app: App,
    *,
    now: int,
    low_balance: int,
    pending: Mapping[str, Unbooked] | None = None,
) -> Overview:
    found = overviews(session, workspace, [app], now=now, low_balance=low_balance, unbooked=pending)
    if not found:  # created between the refresh and this read
        raise NotFound(f"app {app.id!r} has no subscription yet")
    return found[0]


# --- writes ---------------------------------------------------------------------------

_AUDITED = {"plan", "status", "period_start", "period_end", "scheduled_change", "renews"}


def _audited_state(
    session: Session, workspace: Workspace, app: App, *, now: int, low_balance: int
) -> dict[str, Any]:
    """What the audit log keeps of a subscription, before or after an action (nothing
    for an app whose subscription starts with this action)."""
    found = overviews(session, workspace, [app], now=now, low_balance=low_balance)
    if not found:
        return {}
    detail = detail_of(found[0], workspace, {})
    return detail.model_dump(mode="json", include=_AUDITED | {"auto_reload"})


def _audited(
    session: Session,
    *,
    workspace_id: str,
    app_id: str,
    actor: Actor,
    action: Action,
    low_balance: int,
    now: int,
    work: Callable[[Workspace, App], dict[str, Any] | None],
) -> SubscriptionDetail:
    """Do ``work`` on the app's subscription and record what it changed; returns the
    subscription after it. ``work`` may return more to keep in the entry's ``after``."""
    workspace = get_workspace(session, workspace_id)
    app = get_app(session, workspace.id, app_id)
    before = _audited_state(session, workspace, app, now=now, low_balance=low_balance)
    extra = work(workspace, app) or {}
    session.flush()
    overview = _overview(session, workspace, app, now=now, low_balance=low_balance)
    detail = detail_of(overview, workspace, owner_emails(session, [app]))
    after = {**detail.model_dump(mode="json", include=_AUDITED | {"auto_reload"}), **extra}
    changed = sorted(name for name in after if before.get(name) != after[name])
    record(
        session,
        workspace_id=workspace.id,
        actor=actor,
        action=action,
        target=target("app", app.id),
        before={name: before.get(name) for name in changed},
        after={name: after[name] for name in changed},
        now=now,
    )
    return detail


def change_plan(
    session: Session,
    *,
    workspace_id: str,
    app_id: str,
    change: PlanChangeRequest,
    actor: Actor,
    request: idempotency.Request | None,
    cards: CardProvider,
    low_balance: int,
    now: int,
) -> idempotency.Reply:
    """Upgrade at once with its order (200), or schedule a downgrade (202)."""

    def work() -> tuple[int, dict[str, Any]]:
        outcome: list[switching.ChangeOutcome] = []

        def apply(workspace: Workspace, app: App) -> dict[str, Any]:
            done = switching.change_plan(
                session,
                workspace,
                app.id,
                plan_code=change.plan,
                method=PaymentMethod(change.payment_method) if change.payment_method else None,
                token=change.token,
                cards=cards,
                now=now,
            )
            outcome.append(done)
            return {"order_id": None if done.order is None else done.order.id}

        detail = _audited(
            session,
            workspace_id=workspace_id,
            app_id=app_id,
            actor=actor,
            action=Action.SUBSCRIPTION_PLAN_CHANGED,
            low_balance=low_balance,
            now=now,
            work=apply,
        )
        done = outcome[0]
        result = PlanChangeOut(
            **detail.model_dump(),
            change=done.kind.value,
            order=None if done.order is None else order_out(done.order),
        )
        code = 202 if done.kind is ChangeKind.DOWNGRADE else 200
        return code, result.model_dump(mode="json")

    get_app(session, workspace_id, app_id)
    return idempotency.once(session, workspace_id=workspace_id, request=request, now=now, work=work)


def withdraw_scheduled_change(
    session: Session,
    *,
    workspace_id: str,
    app_id: str,
    actor: Actor,
    cards: CardProvider,
    low_balance: int,
    now: int,
) -> SubscriptionDetail:
    """Withdraw a scheduled downgrade: the plan renews as it is."""

    def apply(workspace: Workspace, app: App) -> None:
        switching.withdraw_scheduled_change(session, workspace, app.id, cards=cards, now=now)

    return _audited(
        session,
        workspace_id=workspace_id,
        app_id=app_id,
        actor=actor,
        action=Action.SUBSCRIPTION_CHANGE_WITHDRAWN,
        low_balance=low_balance,
        now=now,
        work=apply,
    )


def update_settings(
    session: Session,
    *,
    workspace_id: str,
    app_id: str,
    settings: SubscriptionSettings,
    actor: Actor,
    cards: CardProvider,
    funds_limits: tuple[int, int],
    low_balance: int,
    now: int,
) -> SubscriptionDetail:
    """Renewal on or off, and auto-reload; fields left out keep their values."""
    workspace = get_workspace(session, workspace_id)
    get_app(session, workspace.id, app_id)
    plans.refuse_contract(workspace)
    subscription = renewals.lock_current(session, workspace, app_id, cards=cards, now=now)
    plans.refuse_cancelled(subscription)

    def apply(workspace: Workspace, app: App) -> None:
        if settings.renew is not None:
            plans.set_renewal(subscription, renew=settings.renew, now=now)
        if settings.auto_reload is not None:
            auto_reload.configure(
                subscription,
                enabled=settings.auto_reload.enabled,
                threshold=settings.auto_reload.threshold,
                amount=settings.auto_reload.amount,
                limits=funds_limits,
                currency=workspace.currency,
                now=now,
            )

    return _audited(
        session,
        workspace_id=workspace_id,
        app_id=app_id,
        actor=actor,
        action=Action.SUBSCRIPTION_SETTINGS_CHANGED,
        low_balance=low_balance,
        now=now,
        work=apply,
    )


def cancel(
    session: Session,
    *,
    workspace_id: str,
    app_id: str,
    actor: Actor,
    cards: CardProvider,
    low_balance: int,
    now: int,
) -> SubscriptionDetail:
    """Cancel the app's subscription at once: its entitlement is refused."""

    def apply(workspace: Workspace, app: App) -> None:
        renewals.cancel(session, workspace, app.id, cards=cards, now=now)

    return _audited(
        session,
        workspace_id=workspace_id,
        app_id=app_id,
        actor=actor,
        action=Action.SUBSCRIPTION_CANCELLED,
        low_balance=low_balance,
        now=now,
        work=apply,
    )
