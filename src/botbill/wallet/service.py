"""The wallet's work: adding funds, promotional credits, the entitlement answer.

Services flush; the caller commits.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from botbill.apps.models import App
from botbill.kit.instants import Micros
from botbill.kit.money import Money
from botbill.kit.problems import Forbidden, Invalid, NotFound
from botbill.orders.models import Order
from botbill.orders.providers import CardProvider, Outcome, PaymentMethod
from botbill.orders.service import (
    OrderKind,
    PaymentRequired,
    apply_result,
    charge_card,
    confirm_wire,
    credit_funds,
    new_order,
    request_wire,
)
from botbill.plans.catalog_store import catalog
from botbill.plans.models import Subscription, SubscriptionPeriod
from botbill.plans.overview import NOTHING_UNBOOKED, facts_of
from botbill.plans.service import ENTERPRISE_ACCOUNT, lock_current, settle_unpaid_fee
from botbill.rating.unbooked import unbooked
from botbill.wallet.balances import balance_of, book
from botbill.wallet.entitlement import Decision, decide
from botbill.wallet.ledger import EntryKind
from botbill.wallet.models import LedgerEntry
from botbill.workspaces.models import Workspace

# --- funds --------------------------------------------------------------------------------


def refuse_enterprise(workspace: Workspace) -> None:
    if workspace.account_type == ENTERPRISE_ACCOUNT:
        raise Forbidden("orders and funds are not available to enterprise workspaces")


def add_funds(
    session: Session,
    workspace: Workspace,
    app_id: str,
    *,
    amount: int,
    method: PaymentMethod,
    token: str | None,
    limits: tuple[int, int],
    cards: CardProvider,
    now: Micros,
) -> Order:
    """An add-funds order: a card is charged now (declined → 402, nothing kept); a wire
    order waits for an operator. Paid funds land at once and settle a waiting fee."""
    refuse_enterprise(workspace)
    subscription = lock_current(session, workspace, app_id, cards=cards, now=now)
    low, high = limits
    if not low <= amount <= high:
        money = Money(low, workspace.currency).format(), Money(high, workspace.currency).format()
        raise Invalid.at(
            ["body", "amount"],
            f"an order adds {low:,} to {high:,} minor units ({money[0]} to {money[1]})",
        )
    order = new_order(
        session,
        workspace_id=workspace.id,
        app_id=app_id,
        kind=OrderKind.ADD_FUNDS,
        amount=Money(amount, workspace.currency),
        method=method,
        now=now,
    )
    if method is PaymentMethod.WIRE:
        apply_result(order, request_wire(order), now=now)
        session.flush()
        return order
    assert token is not None  # the request schema requires it
    result = charge_card(order, token=token, cards=cards, loc=["body", "token"])
    if result.outcome is not Outcome.PAID:
        raise PaymentRequired(f"the card was declined ({result.reason}); no funds were added")
    apply_result(order, result, now=now)
    subscription.saved_card_token = token
    funds_landed(session, subscription, order, now=now)
    return order


def funds_landed(
    session: Session, subscription: Subscription, order: Order, *, now: Micros
) -> None:
    credit_funds(session, order, now=now)
    settle_unpaid_fee(session, subscription, now=now)
    session.flush()


def confirm_payment(session: Session, order: Order, *, cards: CardProvider, now: Micros) -> Order:
    """An operator confirms a wire transfer's receipt."""
    workspace = session.get(Workspace, order.workspace_id)
    assert workspace is not None
    subscription = lock_current(session, workspace, order.app_id, cards=cards, now=now)
    confirm_wire(session, order, now=now)
    settle_unpaid_fee(session, subscription, now=now)
    session.flush()
    return order


def grant_promotion(
    session: Session,
    workspace: Workspace,
    app_id: str,
    *,
    amount: int,
    expires_at: Micros,
    reason: str,
    cards: CardProvider,
    now: Micros,
) -> LedgerEntry:
    """An operator's promotional credit: spent before paid funds, lapses at ``expires_at``."""
    refuse_enterprise(workspace)
    if type(amount) is not int or amount <= 0:
        raise ValueError("a promotional credit is a positive number of minor units")
    if expires_at <= now:
        raise ValueError("a promotional credit must expire in the future")
    subscription = lock_current(session, workspace, app_id, cards=cards, now=now)
    entry = book(
        session,
        workspace_id=workspace.id,
        app_id=app_id,
        currency=workspace.currency,
        kind=EntryKind.PROMO_GRANT,
        amount=amount,
        at=now,
        reference=reason[:64] or None,
        expires_at=expires_at,
    )
    settle_unpaid_fee(session, subscription, now=now)
    session.flush()
    return entry


# --- entitlement --------------------------------------------------------------------------


def entitlement(session: Session, workspace_id: str, app_id: str, *, now: Micros) -> Decision:
    """May the app answer now? The subscription must be current (``plans.service.refresh``);
    charges the rater has yet to book count as booked (read in a snapshot)."""
    app = session.get(App, (workspace_id, app_id))
    if app is None:
        raise NotFound(f"no app {app_id!r}")
    subscription = session.get(Subscription, (workspace_id, app_id))
    if subscription is None:
        raise NotFound(f"app {app_id!r} has no subscription yet")
    period = session.get(SubscriptionPeriod, subscription.period_id)
    assert period is not None
    plan = catalog(session)[subscription.plan_code]
    balance = balance_of(session, workspace_id, app_id, now)
    workspace = session.get(Workspace, workspace_id)
    assert workspace is not None
    pending = unbooked(session, workspace, [app_id], now=now).get(app_id, NOTHING_UNBOOKED)
    return decide(facts_of(subscription, plan, period, balance, pending), now)
