"""Plan changes (SPEC §3.5): an upgrade applies at once with its order; a downgrade
waits for the period's end and can be withdrawn until then."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from botbill.kit.instants import Micros, from_micros
from botbill.kit.money import Money
from botbill.kit.problems import Conflict, Forbidden, Invalid, NotFound
from botbill.ledger.balances import balance_of
from botbill.orders.models import Order
from botbill.orders.providers import CardProvider, Outcome, PaymentMethod
from botbill.orders.service import (
    OrderKind,
    PaymentRequired,
    charge_card,
    mark_paid,
    new_order,
    pay_from_balance,
)
from botbill.plans.catalog import Plan
from botbill.plans.catalog_store import catalog
from botbill.plans.changes import ChangeKind, ChangeRefused, classify, upgrade_cost
from botbill.plans.models import Subscription, SubscriptionPeriod
from botbill.plans.renewals import fail_unpaid_fee, lock_current
from botbill.plans.service import (
    ACTIVE,
    CANCELLED,
    EXPIRED,
    current_period,
    known_plan,
    open_period,
)
from botbill.webhooks.events import EventType
from botbill.webhooks.outbox import announce
from botbill.workspaces.models import AccountType, App, Workspace


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
    if workspace.account_type == AccountType.ENTERPRISE:
        raise Forbidden("an enterprise workspace's plans are set by contract, by an operator")
    subscription = lock_current(session, workspace, app_id, cards=cards, now=now)
    plans = catalog(session)
    target = known_plan(plans, plan_code, loc=["body", "plan"])
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
        announce(
            session,
            workspace_id=workspace.id,
            type=EventType.DOWNGRADE_SCHEDULED,
            data={
                "app_id": app_id,
                "plan": current.code,
                "scheduled_plan": target.code,
                "effective_at": from_micros(subscription.period_end),
            },
            now=now,
        )
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
            mark_paid(session, order, now=now, reference=result.reference)
            subscription.saved_card_token = token
        elif method is PaymentMethod.CARD:
            mark_paid(session, order, now=now)
        elif not pay_from_balance(session, order, now=now):
            balance = balance_of(session, workspace.id, subscription.app_id, now)
            raise PaymentRequired(
                f"the app's balance ({Money(balance, workspace.currency).format()}) does not "
                f"cover the fee due ({Money(cost.due, workspace.currency).format()}); add "
                "funds or pay by card. Nothing was changed."
            )
    fail_unpaid_fee(
        session, subscription, reason="replaced by a plan change before it was paid", now=now
    )
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
    _, period = open_period(
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
