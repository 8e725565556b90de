"""Subscriptions: starting, renewing, expiring, cancelling and changing an app's plan.

Services flush; the caller commits. Every write that moves an app's money first locks the
app's subscription row (``FOR UPDATE`` on PostgreSQL; SQLite writers hold the database
lock), so fee payments, funds and rating of one app never interleave.

Periods roll forward lazily: whatever touches a subscription first brings it up to date
(:func:`bring_up_to_date`), renewing fee plans at each period end it passed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.apps.models import App
from botbill.kit.instants import Micros, from_micros
from botbill.kit.money import Money
from botbill.kit.problems import Conflict, Forbidden, Invalid, NotFound
from botbill.orders.models import Order
from botbill.orders.providers import (
    CardProvider,
    InvalidToken,
    Outcome,
    PaymentMethod,
    PaymentResult,
    PaymentStatus,
)
from botbill.orders.service import (
    OrderKind,
    PaymentRequired,
    apply_result,
    charge_card,
    mark_failed,
    mark_paid,
    new_order,
    pay_from_balance,
)
from botbill.plans.catalog import (
    ENTERPRISE,
    TRIAL,
    Plan,
)
from botbill.plans.catalog_store import catalog, ensure_catalog
from botbill.plans.changes import ChangeKind, ChangeRefused, classify, upgrade_cost
from botbill.plans.models import Subscription, SubscriptionPeriod
from botbill.plans.periods import Span, monthly_period, trial_period
from botbill.wallet.balances import apps_with_due_lapses, balance_of, book_lapses
from botbill.workspaces.models import Workspace

ACTIVE, EXPIRED, CANCELLED = "active", "expired", "cancelled"
RENEWAL_FAILED, RENEWAL_OFF = "renewal_failed", "renewal_off"
ENTERPRISE_ACCOUNT = "enterprise"


def _known(plans: dict[str, Plan], code: str, *, loc: list[str | int]) -> Plan:
    plan = plans.get(code)
    if plan is None:
        raise Invalid.at(loc, f"unknown plan {code!r} (plans: {', '.join(plans)})")
    return plan


# --- subscriptions ----------------------------------------------------------------------


def find_subscription(
    session: Session, workspace_id: str, app_id: str, *, lock: bool = False
) -> Subscription | None:
    query = select(Subscription).where(
        Subscription.workspace_id == workspace_id, Subscription.app_id == app_id
    )
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def _span(plan: Plan, *, anchor: Micros, index: int, tz: str) -> Span:
    if plan.is_trial:
        return trial_period(anchor, tz, plan.trial_days)
    return monthly_period(anchor, tz, index)


def _open_period(
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
    if workspace.account_type == ENTERPRISE_ACCOUNT:
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
    plan = _known(plans, _plan_for_workspace(workspace, plan_code), loc=["body", "plan"])
    subscription, period = _open_period(
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


def fail_unpaid_fee(session: Session, subscription: Subscription, *, reason: str) -> None:
    """The period's fee order still waiting for funds will not be paid: mark it failed."""
    if subscription.unpaid_order_id is None:
        return
    unpaid = session.get(Order, subscription.unpaid_order_id)
    if unpaid is not None and unpaid.payment_status == PaymentStatus.PENDING.value:
        mark_failed(unpaid, reason=reason)
    subscription.unpaid_order_id = None


def current_period(session: Session, subscription: Subscription) -> SubscriptionPeriod:
    period = session.get(SubscriptionPeriod, subscription.period_id)
    assert period is not None  # a foreign key
    return period


def settle_unpaid_fee(session: Session, subscription: Subscription, *, now: Micros) -> bool:
    """Pay the period's waiting fee order from the balance if it now covers it."""
    if subscription.unpaid_order_id is None:
        return False
    order = session.get(Order, subscription.unpaid_order_id)
    if order is None or order.payment_status != PaymentStatus.PENDING.value:
        subscription.unpaid_order_id = None
        return False
    if not pay_from_balance(session, order, now=now):
        return False
    current_period(session, subscription).fee_paid = order.amount + order.credit
    subscription.unpaid_order_id = None
    session.flush()
    return True


def _collect_fee(
    session: Session,
    subscription: Subscription,
    *,
    plan: Plan,
    kind: OrderKind,
    currency: str,
    cards: CardProvider,
    now: Micros,
) -> Order:
    """A period-end fee: from the balance when it covers it, else with the saved card."""
    order = new_order(
        session,
        workspace_id=subscription.workspace_id,
        app_id=subscription.app_id,
        kind=kind,
        amount=Money(plan.fee_amount, currency),
        method=PaymentMethod.BALANCE,
        plan_code=plan.code,
        now=now,
    )
    if pay_from_balance(session, order, now=now):
        return order
    if subscription.saved_card_token is None:
        mark_failed(order, reason="the balance does not cover the fee and no card is saved")
        return order
    order.payment_method = PaymentMethod.CARD.value
    try:
        result = cards.charge(
            token=subscription.saved_card_token,
            amount=Money(order.amount, currency),
            order_id=order.id,
        )
    except InvalidToken as error:
        result = PaymentResult(Outcome.DECLINED, reason=str(error))
    apply_result(order, result, now=now)
    return order


def bring_up_to_date(
    session: Session,
    subscription: Subscription,
    *,
    workspace: Workspace,
    cards: CardProvider,
    now: Micros,
) -> None:
    """Roll every period end that ``now`` has passed: renew, apply a scheduled change, or
    expire. The subscription's row must be locked by the caller."""
    book_lapses(
        session,
        workspace_id=workspace.id,
        app_id=subscription.app_id,
        currency=workspace.currency,
        now=now,
    )
    plans = catalog(session)
    app = session.get(App, (subscription.workspace_id, subscription.app_id))
    assert app is not None
    while subscription.state == ACTIVE and now >= subscription.period_end:
        plan = plans[subscription.plan_code]
        if plan.is_trial:
            return  # a trial does not renew: the app stops (trial_expired)
        boundary = subscription.period_end
        fail_unpaid_fee(session, subscription, reason="the period ended before the fee was paid")
        target = plans.get(subscription.scheduled_plan_code or plan.code, plan)
        changing = target.code != plan.code
        if target.fee_amount and not subscription.renew:
            _expire(subscription, because=RENEWAL_OFF, now=now)
            return
        order = None
        if target.fee_amount:
            order = _collect_fee(
                session,
                subscription,
                plan=target,
                kind=OrderKind.PLAN_CHANGE if changing else OrderKind.RENEWAL,
                currency=workspace.currency,
                cards=cards,
                now=now,
            )
            if order.payment_status != PaymentStatus.PAID.value:
                _expire(subscription, because=RENEWAL_FAILED, now=now)
                return
        anchor, index = (
            (boundary, 0) if changing else (subscription.anchor, subscription.period_index + 1)
        )
        subscription.scheduled_plan_code = None
        _, period = _open_period(
            session,
            app=app,
            plan=target,
            anchor=anchor,
            index=index,
            tz=workspace.timezone,
            subscription=subscription,
            now=now,
        )
        if order is not None:
            period.fee_paid = order.amount
    session.flush()


def _expire(subscription: Subscription, *, because: str, now: Micros) -> None:
    subscription.state = EXPIRED
    subscription.expired_because = because
    subscription.scheduled_plan_code = None
    subscription.updated_at = from_micros(now)


def lock_current(
    session: Session, workspace: Workspace, app_id: str, *, cards: CardProvider, now: Micros
) -> Subscription:
    """The app's subscription, locked and brought up to date (started if it had none)."""
    subscription = find_subscription(session, workspace.id, app_id, lock=True)
    if subscription is None:
        app = session.get(App, (workspace.id, app_id))
        if app is None:
            raise NotFound(f"no app {app_id!r}")
        subscription = _start_lazily(session, workspace, app, now=now)
    bring_up_to_date(session, subscription, workspace=workspace, cards=cards, now=now)
    return subscription


def _start_lazily(session: Session, workspace: Workspace, app: App, *, now: Micros) -> Subscription:
    """An app that predates subscriptions starts one, on its recorded plan, when first seen."""
    code = app.plan
    if workspace.account_type == ENTERPRISE_ACCOUNT:
        code = ENTERPRISE
    elif code == ENTERPRISE:
        code = TRIAL
    return start_subscription(session, app, code, now)


def refuse_contract(workspace: Workspace) -> None:
    if workspace.account_type == ENTERPRISE_ACCOUNT:
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


def cancel(
    session: Session, workspace: Workspace, app_id: str, *, cards: CardProvider, now: Micros
) -> Subscription:
    """Cancel at once: entitlement refuses with ``cancelled`` from now on.

    Nothing is refunded: the running fee stays paid and the balance stays with the app.
    A scheduled downgrade is dropped, a fee still waiting for funds is ``failed`` (funds
    landing later must not pay it), and periods no longer roll. The app comes back only
    through a plan change (:func:`change_plan`).
    """
    refuse_contract(workspace)
    subscription = lock_current(session, workspace, app_id, cards=cards, now=now)
    if subscription.state == CANCELLED:
        raise Conflict("the subscription is already cancelled")
    fail_unpaid_fee(
        session, subscription, reason="the subscription was cancelled before the fee was paid"
    )
    subscription.state = CANCELLED
    subscription.scheduled_plan_code = None
    subscription.updated_at = from_micros(now)
    session.flush()
    return subscription


# --- keeping subscriptions current before a read ----------------------------------------


def refresh_due(
    session: Session, workspace_id: str, app_id: str | None, *, now: Micros
) -> set[str]:
    """The apps whose subscriptions must be written before they can be read as of ``now``:
    none yet, a period ended (trials excepted: they just stop), a promotion to lapse."""
    missing = select(App.id).where(
        App.workspace_id == workspace_id,
        ~select(Subscription.app_id)
        .where(Subscription.workspace_id == App.workspace_id, Subscription.app_id == App.id)
        .exists(),
    )
    ended = select(Subscription.app_id, Subscription.plan_code).where(
        Subscription.workspace_id == workspace_id,
        Subscription.state == ACTIVE,
        Subscription.period_end <= now,
    )
    if app_id is not None:
        missing = missing.where(App.id == app_id)
        ended = ended.where(Subscription.app_id == app_id)
    due = set(session.scalars(missing))
    rows = session.execute(ended).all()
    if rows:
        plans = catalog(session)
        due |= {app for app, code in rows if code in plans and not plans[code].is_trial}
    return due | apps_with_due_lapses(
        session, workspace_id, None if app_id is None else [app_id], now
    )


def refresh(
    session: Session,
    workspace: Workspace,
    app_ids: Collection[str],
    *,
    cards: CardProvider,
    now: Micros,
) -> None:
    """Start missing subscriptions, roll ended periods, book due lapses."""
    for app_id in sorted(app_ids):  # in key order: writers never deadlock
        lock_current(session, workspace, app_id, cards=cards, now=now)


# --- plan changes -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChangeOutcome:
    kind: ChangeKind
    subscription: Subscription
    order: Order | None


def change_plan(
    session: Session,
    workspace: Workspace,
    app_id: str,
    *,
    plan_code: str,
    method: PaymentMethod | None,
    token: str | None,
    cards: CardProvider,
    now: Micros,
) -> ChangeOutcome:
    """SPEC §3.5: an upgrade applies now with its order; a downgrade waits for period end.

    The fee order of an upgrade is paid with the card given, else from the balance; when
    neither pays, :class:`PaymentRequired` is raised and the caller's unit of work rolls
    back, so nothing changes.
    """
    if workspace.account_type == ENTERPRISE_ACCOUNT:
        raise Forbidden("an enterprise workspace's plans are set by contract, by an operator")
    subscription = lock_current(session, workspace, app_id, cards=cards, now=now)
    plans = catalog(session)
    target = _known(plans, plan_code, loc=["body", "plan"])
    current = plans[subscription.plan_code]
    # A cancelled subscription comes back only through a plan change, which applies at
    # once like the change of an expired one (the same plan included).
    expired = subscription.state in (EXPIRED, CANCELLED) or (
        current.is_trial and now >= subscription.period_end
    )
    if target.is_trial:
        raise Invalid.at(["body", "plan"], "a trial only starts with a new app")
    if target.code == current.code and not expired:
        raise Conflict(f"the app is already on the {target.code!r} plan")
    try:
        kind = classify(current, target, expired=expired)
    except ChangeRefused as refused:
        raise Forbidden(refused.message) from None
    if kind is ChangeKind.DOWNGRADE:
        subscription.scheduled_plan_code = target.code
        subscription.updated_at = from_micros(now)
        session.flush()
        return ChangeOutcome(kind, subscription, None)
    return _upgrade(
        session,
        workspace,
        subscription,
        target=target,
        method=method,
        token=token,
        cards=cards,
        now=now,
    )


def _upgrade(
    session: Session,
    workspace: Workspace,
    subscription: Subscription,
    *,
    target: Plan,
    method: PaymentMethod | None,
    token: str | None,
    cards: CardProvider,
    now: Micros,
) -> ChangeOutcome:
    old = current_period(session, subscription)
    cost = upgrade_cost(target=target, fee_paid=old.fee_paid, start=old.start, end=old.end, at=now)
    order = None
    if target.fee_amount:
        order = new_order(
            session,
            workspace_id=workspace.id,
            app_id=subscription.app_id,
            kind=OrderKind.PLAN_CHANGE,
            amount=Money(cost.due, workspace.currency),
            method=method or PaymentMethod.BALANCE,
            plan_code=target.code,
            credit=cost.credit,
            now=now,
        )
        if method is PaymentMethod.CARD and cost.due:
            assert token is not None  # the request schema requires it
            result = charge_card(order, token=token, cards=cards, loc=["body", "token"])
            if result.outcome is not Outcome.PAID:
                raise PaymentRequired(
                    f"the card was declined ({result.reason}); nothing was changed"
                )
            mark_paid(order, now=now, reference=result.reference)
            subscription.saved_card_token = token
        elif method is PaymentMethod.CARD:
            mark_paid(order, now=now)
        elif not pay_from_balance(session, order, now=now):
            balance = balance_of(session, workspace.id, subscription.app_id, now)
            raise PaymentRequired(
                f"the app's balance ({Money(balance, workspace.currency).format()}) does not "
                f"cover the fee due ({Money(cost.due, workspace.currency).format()}); add "
                "funds or pay by card. Nothing was changed."
            )
    fail_unpaid_fee(session, subscription, reason="replaced by a plan change before it was paid")
    period = switch_now(session, workspace, subscription, target=target, now=now)
    if order is not None:
        period.fee_paid = target.fee_amount
    session.flush()
    return ChangeOutcome(ChangeKind.UPGRADE, subscription, order)


def switch_now(
    session: Session,
    workspace: Workspace,
    subscription: Subscription,
    *,
    target: Plan,
    now: Micros,
) -> SubscriptionPeriod:
    """End the current period now and start ``target``'s first period: the subscription
    is active again, with nothing scheduled."""
    old = current_period(session, subscription)
    old.end = min(old.end, max(now, old.start))
    subscription.state = ACTIVE
    subscription.expired_because = None
    subscription.scheduled_plan_code = None
    app = session.get(App, (workspace.id, subscription.app_id))
    assert app is not None
    _, period = _open_period(
        session,
        app=app,
        plan=target,
        anchor=now,
        index=0,
        tz=workspace.timezone,
        subscription=subscription,
        now=now,
    )
    return period


def withdraw_scheduled_change(
    session: Session, workspace: Workspace, app_id: str, *, cards: CardProvider, now: Micros
) -> Subscription:
    subscription = lock_current(session, workspace, app_id, cards=cards, now=now)
    if subscription.scheduled_plan_code is None:
        raise NotFound("no plan change is scheduled for this app")
    subscription.scheduled_plan_code = None
    subscription.updated_at = from_micros(now)
    session.flush()
    return subscription
