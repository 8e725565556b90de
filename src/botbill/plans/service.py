"""Subscriptions: an app's plan, its current period, and starting one (SPEC §3.2).

Services flush; the caller commits. Every write that moves an app's money first locks the
app's subscription row (``FOR UPDATE`` on PostgreSQL; SQLite writers hold the database
lock), so fee payments, funds and rating of one app never interleave. Periods roll at
their end by the lifecycle job and by writes (``plans/renewals.py``), never by a read.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.kit.instants import Micros, from_micros
from botbill.kit.money import Money
from botbill.kit.problems import Conflict, Forbidden, Invalid, NotFound
from botbill.orders.providers import PaymentMethod
from botbill.orders.service import OrderKind, new_order, pay_from_balance
from botbill.plans.catalog import ENTERPRISE, TRIAL, Plan
from botbill.plans.catalog_store import catalog, ensure_catalog
from botbill.plans.models import Subscription, SubscriptionPeriod
from botbill.plans.periods import Span, monthly_period, trial_period
from botbill.workspaces.models import AccountType, App, Workspace


class SubscriptionState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class ExpiredBecause(StrEnum):
    RENEWAL_FAILED = "renewal_failed"
    RENEWAL_OFF = "renewal_off"


ACTIVE, EXPIRED, CANCELLED = SubscriptionState
RENEWAL_FAILED, RENEWAL_OFF = ExpiredBecause


def known_plan(plans: dict[str, Plan], code: str, *, loc: list[str | int]) -> Plan:
    plan = plans.get(code)
    if plan is None:
        raise Invalid.at(loc, f"unknown plan {code!r} (plans: {', '.join(plans)})")
    return plan


def find_subscription(
    session: Session, workspace_id: str, app_id: str, *, lock: bool = False
) -> Subscription | None:
    query = select(Subscription).where(
        Subscription.workspace_id == workspace_id, Subscription.app_id == app_id
    )
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def lock_subscription(session: Session, workspace_id: str, app_id: str) -> Subscription:
    """The app's subscription, locked as it is (nothing brought up to date)."""
    subscription = find_subscription(session, workspace_id, app_id, lock=True)
    if subscription is None:
        raise NotFound(f"app {app_id!r} has no subscription yet")
    return subscription


def unopened_from(subscription: Subscription, plan: Plan) -> Micros | None:
    """Where the next period will start, while it is not opened yet: usage from there on
    waits for the lifecycle job to renew (or expire) the subscription before it is rated.
    ``None`` when no period follows (a trial, or a subscription no longer active): usage
    after the end is rated in the last period."""
    if subscription.state != ACTIVE or plan.is_trial:
        return None
    return subscription.period_end


def _span(plan: Plan, *, anchor: Micros, index: int, tz: str) -> Span:
    if plan.is_trial:
        return trial_period(anchor, tz, plan.trial_days)
    return monthly_period(anchor, tz, index)


def open_period(
    session: Session,
    *,
    app: App,
    plan: Plan,
    anchor: Micros,
    index: int,
    tz: str,
    subscription: Subscription | None = None,
    now: Micros,
) -> tuple[Subscription, SubscriptionPeriod]:
    """Start period ``index`` of the series at ``anchor`` (a new subscription if none)."""
    span = _span(plan, anchor=anchor, index=index, tz=tz)
    period = SubscriptionPeriod(
        workspace_id=app.workspace_id,
        app_id=app.id,
        plan_code=plan.code,
        start=span.start,
        end=span.end,
        fee_paid=0,
        included_billing=plan.included_billing_sessions,
        included_voice=plan.included_voice_sessions,
        drawn_billing=0,
        drawn_voice=0,
        usage_sessions=0,
        alert_sessions=0,
        voice_sessions=0,
    )
    session.add(period)
    session.flush()
    if subscription is None:
        subscription = Subscription(
            workspace_id=app.workspace_id,
            app_id=app.id,
            state=ACTIVE,
            renew=True,
            auto_reload_enabled=False,
            created_at=from_micros(now),
        )
        session.add(subscription)
    subscription.plan_code = plan.code
    subscription.anchor = anchor
    subscription.period_index = index
    subscription.period_id = period.id
    subscription.period_start = span.start
    subscription.period_end = span.end
    subscription.updated_at = from_micros(now)
    app.plan = plan.code  # the apps table keeps a mirror of the plan in force
    session.flush()
    return subscription, period


def _plan_for_workspace(workspace: Workspace, code: str) -> str:
    if workspace.account_type == AccountType.ENTERPRISE:
        if code not in (ENTERPRISE, TRIAL):  # ``trial`` is what an app gets by default
            raise Forbidden("an enterprise workspace's apps are on its contract plan")
        return ENTERPRISE
    if code == ENTERPRISE:
        raise Forbidden(
            "the enterprise plan comes with an enterprise account, which an operator sets"
        )
    return code


def start_subscription(session: Session, app: App, plan_code: str, now: Micros) -> Subscription:
    """A new app's subscription: its first period starts now.

    A fee plan's first fee is an order paid from the app's balance; while the balance does
    not cover it the order waits (``pending``) and the app is refused for
    ``insufficient_funds``; funds landing settle it at once.
    """
    workspace = session.get(Workspace, app.workspace_id)
    if workspace is None:
        raise NotFound(f"no workspace {app.workspace_id!r}")
    ensure_catalog(session, now=now)
    plans = catalog(session)
    plan = known_plan(plans, _plan_for_workspace(workspace, plan_code), loc=["body", "plan"])
    subscription, period = open_period(
        session, app=app, plan=plan, anchor=now, index=0, tz=workspace.timezone, now=now
    )
    if plan.fee_amount:
        order = new_order(
            session,
            workspace_id=app.workspace_id,
            app_id=app.id,
            kind=OrderKind.SUBSCRIPTION,
            amount=Money(plan.fee_amount, workspace.currency),
            method=PaymentMethod.BALANCE,
            plan_code=plan.code,
            now=now,
        )
        if pay_from_balance(session, order, now=now):
            period.fee_paid = plan.fee_amount
        else:
            subscription.unpaid_order_id = order.id
    session.flush()
    return subscription


def current_period(session: Session, subscription: Subscription) -> SubscriptionPeriod:
    period = session.get(SubscriptionPeriod, subscription.period_id)
    assert period is not None  # a foreign key
    return period


def refuse_contract(workspace: Workspace) -> None:
    if workspace.account_type == AccountType.ENTERPRISE:
        raise Forbidden("an enterprise workspace's subscriptions are set by contract")


def refuse_cancelled(subscription: Subscription) -> None:
    if subscription.state == CANCELLED:
        raise Conflict(
            "the subscription is cancelled: choose a plan "
            "(POST /v1/apps/{app_id}/subscription/change) to bring the app back"
        )


def set_renewal(subscription: Subscription, *, renew: bool, now: Micros) -> None:
    """Renewal on or off (SPEC §3.5). Off: a fee plan expires at its period's end
    (``renewal_off``). Trials never renew and pay-as-you-go periods roll without an
    order, so there the setting waits for a fee plan."""
    refuse_cancelled(subscription)
    subscription.renew = renew
    subscription.updated_at = from_micros(now)
