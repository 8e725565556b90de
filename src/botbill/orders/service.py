"""Orders: placing them, collecting their payment, and what a paid order books.

Services flush; the caller commits. A request that fails to pay (a declined card, a
balance that does not cover a fee) raises :class:`PaymentRequired` and its unit of work
rolls back: no order is kept. Payments attempted in the background (renewals) keep their
failed orders, so the admin can see them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from botbill.audit.service import Actor
from botbill.invoicing import service as invoicing
from botbill.invoicing.profiles import buyer_profile
from botbill.invoicing.rules import Line, parse_tax_rate, rate_text, tax_of
from botbill.invoicing.service import Billed, Voided, issue_invoice
from botbill.kit.ids import new_id
from botbill.kit.instants import Micros, from_micros
from botbill.kit.money import Money
from botbill.kit.problems import Conflict, Forbidden, Invalid, NotFound, Problem
from botbill.ledger.balances import balance_of, book
from botbill.ledger.entries import EntryKind
from botbill.orders.models import Order
from botbill.orders.providers import (
    CardProvider,
    InvalidToken,
    Outcome,
    PaymentMethod,
    PaymentResult,
    PaymentStatus,
    WireProvider,
)
from botbill.webhooks.events import EventType
from botbill.webhooks.outbox import announce
from botbill.workspaces.models import AccountType, Workspace


class PaymentRequired(Problem):
    status, slug, title = 402, "payment-required", "Payment required"


class OrderKind(StrEnum):
    ADD_FUNDS = "add_funds"
    SUBSCRIPTION = "subscription"
    """The first period's fee of a new app's plan."""
    RENEWAL = "renewal"
    PLAN_CHANGE = "plan_change"


def new_order(
    session: Session,
    *,
    workspace_id: str,
    app_id: str,
    kind: OrderKind,
    amount: Money,
    method: PaymentMethod,
    now: Micros,
    plan_code: str | None = None,
    credit: int = 0,
) -> Order:
    order = Order(
        id=new_id("ord"),
        workspace_id=workspace_id,
        app_id=app_id,
        kind=kind.value,
        plan_code=plan_code,
        amount=amount.amount,
        credit=credit,
        currency=amount.currency,
        payment_status=PaymentStatus.PENDING.value,
        created_at=from_micros(now),
    )
    set_method(session, order, method)
    session.add(order)
    session.flush()
    return order


def set_method(session: Session, order: Order, method: PaymentMethod) -> None:
    """How the order will be paid, and so its tax (SPEC §4): money paid in (card, wire)
    carries the buyer's rate on top of the net amount; a payment from the balance moves
    no money and carries none (the funds were taxed when they were bought)."""
    order.payment_method = method.value
    rate = Decimal(0)
    if method is not PaymentMethod.BALANCE:
        workspace = session.get(Workspace, order.workspace_id)
        assert workspace is not None  # a foreign key
        rate = buyer_profile(session, workspace).tax_rate
    order.tax_rate = rate_text(rate)
    order.tax = tax_of(order.amount, rate)
    order.total = order.amount + order.tax


def charged(order: Order) -> Money:
    """What the payment method is asked for: the total, tax included."""
    return Money(order.total, order.currency)


def charge_card(
    order: Order, *, token: str, cards: CardProvider, loc: list[str | int]
) -> PaymentResult:
    """Ask the card provider; an unknown token is the request's fault (422 at ``loc``)."""
    try:
        return cards.charge(token=token, amount=charged(order), order_id=order.id)
    except InvalidToken as error:
        raise Invalid.at(loc, str(error)) from None


def request_wire(order: Order) -> PaymentResult:
    return WireProvider().request(amount=charged(order), order_id=order.id)


def mark_paid(session: Session, order: Order, *, now: Micros, reference: str | None = None) -> None:
    """The order is paid; money paid in (card, wire) gets its invoice in this transaction.
    A payment from the balance moved no money and gets none."""
    order.payment_status = PaymentStatus.PAID.value
    order.paid_at = from_micros(now)
    order.provider_reference = reference
    if order.payment_method != PaymentMethod.BALANCE.value:
        invoice = issue_invoice(session, billed(order), now=now)
        order.invoice_id = invoice.id
    _announce(session, order, EventType.ORDER_PAID, now=now)


def _announce(session: Session, order: Order, event_type: EventType, *, now: Micros) -> None:
    """``order.paid`` / ``order.failed`` to the workspace's webhooks, in this transaction."""
    data = {
        "order_id": order.id,
        "app_id": order.app_id,
        "kind": order.kind,
        "plan": order.plan_code,
        "amount": order.amount,
        "tax": order.tax,
        "total": order.total,
        "currency": order.currency,
        "payment_method": order.payment_method,
        "payment_status": order.payment_status,
        "invoice_id": order.invoice_id,
    }
    if order.failure_reason is not None:
        data["failure_reason"] = order.failure_reason
    announce(session, workspace_id=order.workspace_id, type=event_type, data=data, now=now)


def billed(order: Order) -> Billed:
    """What the order's invoice copies: one line, the net amount at the order's rate."""
    return Billed(
        order_id=order.id,
        workspace_id=order.workspace_id,
        app_id=order.app_id,
        currency=order.currency,
        payment_method=order.payment_method,
        payment_status=order.payment_status,
        lines=(Line(line_description(order), 1, order.amount),),
        tax_rate=parse_tax_rate(order.tax_rate),
    )


def line_description(order: Order) -> str:
    if order.kind == OrderKind.ADD_FUNDS.value:
        return f"Prepaid balance for app {order.app_id}"
    plan = (order.plan_code or "").replace("_", " ").capitalize()
    what = {
        OrderKind.SUBSCRIPTION.value: "first period",
        OrderKind.RENEWAL.value: "renewal",
        OrderKind.PLAN_CHANGE.value: "plan change",
    }.get(order.kind, order.kind)
    description = f"{plan} plan for app {order.app_id}, {what}"
    if order.credit:
        credit = Money(order.credit, order.currency).format()
        description += f" (less {credit} for the unused part of the previous plan)"
    return description


def mark_failed(session: Session, order: Order, *, reason: str, now: Micros) -> None:
    order.payment_status = PaymentStatus.FAILED.value
    order.failure_reason = reason[:200]
    _announce(session, order, EventType.ORDER_FAILED, now=now)


def apply_result(session: Session, order: Order, result: PaymentResult, *, now: Micros) -> None:
    if result.outcome is Outcome.PAID:
        mark_paid(session, order, now=now, reference=result.reference)
    elif result.outcome is Outcome.DECLINED:
        mark_failed(session, order, reason=result.reason or "the payment was declined", now=now)
    else:
        order.provider_reference = result.reference


def credit_funds(session: Session, order: Order, *, now: Micros) -> None:
    """A paid add-funds order lands on the app's balance (once: keyed by the order)."""
    book(
        session,
        workspace_id=order.workspace_id,
        app_id=order.app_id,
        currency=order.currency,
        kind=EntryKind.FUNDS,
        amount=order.amount,
        at=now,
        reference=order.id,
        entry_key=f"order:{order.id}",
    )


def pay_from_balance(session: Session, order: Order, *, now: Micros) -> bool:
    """Pay ``order`` from the app's balance when it covers the cost; else change nothing."""
    if balance_of(session, order.workspace_id, order.app_id, now) < order.amount:
        return False
    set_method(session, order, PaymentMethod.BALANCE)
    if order.amount:
        book(
            session,
            workspace_id=order.workspace_id,
            app_id=order.app_id,
            currency=order.currency,
            kind=EntryKind.PLAN_FEE,
            amount=-order.amount,
            at=now,
            reference=order.id,
            entry_key=f"order:{order.id}",
        )
    mark_paid(session, order, now=now)
    return True


def get_order(session: Session, workspace_id: str, order_id: str) -> Order:
    order = session.get(Order, order_id)
    if order is None or order.workspace_id != workspace_id:
        raise NotFound(f"no order {order_id!r}")
    return order


def lock_order(session: Session, order_id: str) -> Order:
    """Any workspace's order, locked (operators), or 404."""
    order = session.scalars(
        select(Order).where(Order.id == order_id).with_for_update()
    ).one_or_none()
    if order is None:
        raise NotFound(f"no order {order_id!r}")
    return order


def confirm_wire(session: Session, order: Order, *, now: Micros) -> None:
    """An operator has the transfer: the order is paid and its funds land."""
    if order.payment_method != PaymentMethod.WIRE.value:
        raise Conflict(f"order {order.id!r} is paid by {order.payment_method}, not by wire")
    if order.payment_status != PaymentStatus.PENDING.value:
        raise Conflict(f"order {order.id!r} is {order.payment_status}, not pending")
    mark_paid(session, order, now=now, reference=order.provider_reference)
    if order.kind == OrderKind.ADD_FUNDS.value:
        credit_funds(session, order, now=now)


def list_orders(
    session: Session,
    workspace_id: str,
    *,
    app_id: str | None = None,
    after: tuple[str, str] | None = None,
    limit: int = 50,
) -> list[Order]:
    """Newest first; ``after`` is the ``(created_at ISO, id)`` of the last order seen."""
    query = select(Order).where(Order.workspace_id == workspace_id)
    if app_id is not None:
        query = query.where(Order.app_id == app_id)
    if after is not None:
        moment = datetime.fromisoformat(after[0])
        query = query.where(tuple_(Order.created_at, Order.id) < tuple_(moment, after[1]))
    query = query.order_by(Order.created_at.desc(), Order.id.desc()).limit(limit)
    return list(session.scalars(query))


def refuse_enterprise(workspace: Workspace) -> None:
    """Enterprise workspaces are billed by contract: no orders, funds or invoices."""
    if workspace.account_type == AccountType.ENTERPRISE:
        raise Forbidden("orders and funds are not available to enterprise workspaces")


def void_invoice(
    session: Session, invoice_id: str, *, reason: str, actor: Actor, now: Micros
) -> Voided:
    """An operator voids an invoice (``invoicing.service.void_invoice``); its order's
    invoice is the replacement from now on. No money moves."""
    voided = invoicing.void_invoice(session, invoice_id, reason=reason, actor=actor, now=now)
    order = session.get(Order, voided.invoice.order_id, with_for_update=True)
    assert order is not None  # a foreign key
    order.invoice_id = voided.replacement.id
    session.flush()
    return voided
