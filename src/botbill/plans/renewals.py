"""Fees and rolling periods: renewing, expiring and cancelling (SPEC §3.5).

A fee plan renews at its period's end with an order paid from the app's balance when it
covers the fee, else with the saved card; if renewal is off or fails, the subscription
expires. This runs in the lifecycle job and in explicit writes, never in a read.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from botbill.kit.instants import Micros, from_micros
from botbill.kit.money import Money
from botbill.kit.problems import Conflict, NotFound
from botbill.ledger.balances import book_lapses
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
    apply_result,
    charged,
    mark_failed,
    new_order,
    pay_from_balance,
    set_method,
)
from botbill.plans.catalog import ENTERPRISE, TRIAL, Plan
from botbill.plans.catalog_store import catalog
from botbill.plans.models import Subscription
from botbill.plans.service import (
    ACTIVE,
    CANCELLED,
    EXPIRED,
    RENEWAL_FAILED,
    RENEWAL_OFF,
    current_period,
    find_subscription,
    open_period,
    refuse_contract,
    start_subscription,
)
from botbill.workspaces.models import AccountType, App, Workspace


def fail_unpaid_fee(
    session: Session, subscription: Subscription, *, reason: str, now: Micros
) -> None:
    """The period's fee order still waiting for funds will not be paid: mark it failed."""
    if subscription.unpaid_order_id is None:
        return
    unpaid = session.get(Order, subscription.unpaid_order_id)
    if unpaid is not None and unpaid.payment_status == PaymentStatus.PENDING.value:
        mark_failed(session, unpaid, reason=reason, now=now)
    subscription.unpaid_order_id = None


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
        mark_failed(
            session,
            order,
            reason="the balance does not cover the fee and no card is saved",
            now=now,
        )
        return order
    set_method(session, order, PaymentMethod.CARD)
    try:
        result = cards.charge(
            token=subscription.saved_card_token, amount=charged(order), order_id=order.id
        )
    except InvalidToken as error:
        result = PaymentResult(Outcome.DECLINED, reason=str(error))
    apply_result(session, order, result, now=now)
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
        fail_unpaid_fee(
            session, subscription, reason="the period ended before the fee was paid", now=now
        )
        target = plans.get(subscription.scheduled_plan_code or plan.code, plan)
        changing = target.code != plan.code
        if target.fee_amount and not subscription.renew:
            expire(subscription, because=RENEWAL_OFF, now=now)
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
                expire(subscription, because=RENEWAL_FAILED, now=now)
                return
        anchor, index = (
            (boundary, 0) if changing else (subscription.anchor, subscription.period_index + 1)
        )
        subscription.scheduled_plan_code = None
        _, period = open_period(
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


def expire(subscription: Subscription, *, because: str, now: Micros) -> None:
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
        subscription = start_lazily(session, workspace, app, now=now)
    bring_up_to_date(session, subscription, workspace=workspace, cards=cards, now=now)
    return subscription


def start_lazily(session: Session, workspace: Workspace, app: App, *, now: Micros) -> Subscription:
    """An app that predates subscriptions starts one, on its recorded plan, when first seen."""
    code = app.plan
    if workspace.account_type == AccountType.ENTERPRISE:
        code = ENTERPRISE
    elif code == ENTERPRISE:
        code = TRIAL
    return start_subscription(session, app, code, now)


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
        session,
        subscription,
        reason="the subscription was cancelled before the fee was paid",
        now=now,
    )
    subscription.state = CANCELLED
    subscription.scheduled_plan_code = None
    subscription.updated_at = from_micros(now)
    session.flush()
    return subscription
