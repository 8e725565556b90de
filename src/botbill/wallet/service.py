"""The wallet's work: adding funds, confirming wire transfers, promotional credits.

Services flush; the caller commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from botbill.audit.service import Action, Actor, record, target
from botbill.kit.instants import Micros, from_micros
from botbill.kit.money import Money
from botbill.kit.problems import Invalid
from botbill.ledger.balances import book
from botbill.ledger.entries import EntryKind
from botbill.ledger.models import LedgerEntry
from botbill.orders import idempotency
from botbill.orders.models import Order
from botbill.orders.providers import CardProvider, Outcome, PaymentMethod
from botbill.orders.schemas import FundsRequest, order_out
from botbill.orders.service import (
    OrderKind,
    PaymentRequired,
    apply_result,
    charge_card,
    confirm_wire,
    credit_funds,
    lock_order,
    new_order,
    refuse_enterprise,
    request_wire,
)
from botbill.plans.models import Subscription
from botbill.plans.renewals import lock_current, settle_unpaid_fee
from botbill.workspaces.models import Workspace
from botbill.workspaces.service import get_app, get_workspace

# --- funds --------------------------------------------------------------------------------


def add_funds(
    session: Session,
    *,
    workspace_id: str,
    app_id: str,
    funds: FundsRequest,
    actor: Actor,
    request: idempotency.Request | None,
    limits: tuple[int, int],
    cards: CardProvider,
    now: Micros,
) -> idempotency.Reply:
    """``POST /v1/apps/{app_id}/funds``: the order placed (201), recorded in the audit log;
    a repeat with the same ``Idempotency-Key`` gets the first answer."""
    workspace = get_workspace(session, workspace_id)
    get_app(session, workspace.id, app_id)
    refuse_enterprise(workspace)

    def work() -> tuple[int, dict[str, Any]]:
        order = place_funds_order(
            session,
            workspace,
            app_id,
            amount=funds.amount,
            method=PaymentMethod(funds.payment_method),
            token=funds.token,
            limits=limits,
            cards=cards,
            now=now,
        )
        result = order_out(order).model_dump(mode="json")
        record(
            session,
            workspace_id=workspace.id,
            actor=actor,
            action=Action.FUNDS_ADDED,
            target=target("app", app_id),
            before=None,
            after=result,
            now=now,
        )
        return 201, result

    return idempotency.once(session, workspace_id=workspace.id, request=request, now=now, work=work)


def place_funds_order(
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
        apply_result(session, order, request_wire(order), now=now)
        session.flush()
        return order
    assert token is not None  # the request schema requires it
    result = charge_card(order, token=token, cards=cards, loc=["body", "token"])
    if result.outcome is not Outcome.PAID:
        raise PaymentRequired(f"the card was declined ({result.reason}); no funds were added")
    apply_result(session, order, result, now=now)
    subscription.saved_card_token = token
    funds_landed(session, subscription, order, now=now)
    return order


def funds_landed(
    session: Session, subscription: Subscription, order: Order, *, now: Micros
) -> None:
    credit_funds(session, order, now=now)
    settle_unpaid_fee(session, subscription, now=now)
    session.flush()


def confirm_payment(
    session: Session, order_id: str, *, actor: Actor, cards: CardProvider, now: Micros
) -> Order:
    """An operator confirms a wire transfer's receipt: the order is paid, its funds land."""
    order = lock_order(session, order_id)
    before = {"payment_status": order.payment_status, "paid_at": order.paid_at}
    workspace = session.get(Workspace, order.workspace_id)
    assert workspace is not None
    subscription = lock_current(session, workspace, order.app_id, cards=cards, now=now)
    confirm_wire(session, order, now=now)
    settle_unpaid_fee(session, subscription, now=now)
    session.flush()
    record(
        session,
        workspace_id=order.workspace_id,
        actor=actor,
        action=Action.ORDER_PAYMENT_CONFIRMED,
        target=target("order", order.id),
        before=before,
        after={
            "payment_status": order.payment_status,
            "paid_at": order.paid_at,
            "amount": order.amount,
            "currency": order.currency,
            "app_id": order.app_id,
        },
        now=now,
    )
    return order


def grant_promotion(
    session: Session,
    workspace: Workspace,
    app_id: str,
    *,
    amount: int,
    expires_at: Micros,
    reason: str,
    actor: Actor,
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
    record(
        session,
        workspace_id=workspace.id,
        actor=actor,
        action=Action.CREDIT_GRANTED,
        target=target("app", app_id),
        before=None,
        after={
            "entry_id": entry.id,
            "amount": amount,
            "expires_at": from_micros(expires_at),
            "reason": reason,
        },
        now=now,
    )
    return entry
