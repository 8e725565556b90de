"""Auto-reload (SPEC §3.3): below its threshold, an app's balance is topped up by an
add-funds order of a set amount, charged to the app's saved card.

The settings are the subscription's ``auto_reload_*`` columns; the lifecycle job
(``plans/lifecycle.py``) places the orders. The rule that keeps it to **one order per
dip** below the threshold, and keeps a declined card from being charged again and again:

- The latest card payment into the balance (an auto-reload, or funds added by card by
  hand) is the dip's top-up. After it, no auto-reload order is placed until one of:
  - it brought the balance back to or above the threshold (a later fall below is a new
    dip);
  - other money landed on the balance since (funds, a promotional credit, a positive
    adjustment);
  - the subscription changed since (its settings were saved, a period rolled, the plan
    changed).
- A declined order is kept as ``failed`` and counts as the dip's top-up: the card is not
  tried again until money lands or the subscription changes. Charges (rating) never
  re-arm it: they move the balance down, and a retry on every charge would be a storm.

Every write here runs with the subscription's row locked by the caller
(``plans.service.lock_current``), so several processes never place two orders for one dip.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from botbill.kit.instants import Micros, from_micros, to_micros
from botbill.kit.money import Money
from botbill.kit.problems import Conflict, FieldError, Invalid
from botbill.ledger.balances import balance_of
from botbill.ledger.entries import EntryKind
from botbill.ledger.models import LedgerEntry
from botbill.orders.models import Order
from botbill.orders.providers import (
    CardProvider,
    InvalidToken,
    Outcome,
    PaymentMethod,
    PaymentResult,
    PaymentStatus,
)
from botbill.orders.service import OrderKind, apply_result, charged, new_order
from botbill.plans.catalog import Plan
from botbill.plans.catalog_store import catalog
from botbill.plans.models import Subscription
from botbill.plans.service import ACTIVE, refuse_cancelled
from botbill.wallet.service import funds_landed
from botbill.workspaces.models import AccountType, Workspace

log = logging.getLogger(__name__)

_MONEY_IN = (EntryKind.FUNDS.value, EntryKind.PROMO_GRANT.value, EntryKind.ADJUSTMENT.value)
_LOC = ("body", "auto_reload")


# --- settings -----------------------------------------------------------------------------


def configure(
    subscription: Subscription,
    *,
    enabled: bool,
    threshold: int | None,
    amount: int | None,
    limits: tuple[int, int],
    currency: str,
    now: Micros,
) -> None:
    """Turn auto-reload on or off; ``None`` keeps the stored threshold or amount.

    The amount is an add-funds order, so it lies within the add-funds limits. Turning it
    on needs a threshold, an amount and a saved card (the last card that paid).
    """
    refuse_cancelled(subscription)
    low, high = limits
    threshold = subscription.auto_reload_threshold if threshold is None else threshold
    amount = subscription.auto_reload_amount if amount is None else amount
    errors: list[FieldError] = []
    if amount is not None and not low <= amount <= high:
        shown = Money(low, currency).format(), Money(high, currency).format()
        errors.append(
            FieldError(
                [*_LOC, "amount"],
                f"an auto-reload adds {low:,} to {high:,} minor units ({shown[0]} to {shown[1]}),"
                " like any add-funds order",
            )
        )
    if enabled:
        for name, value in (("threshold", threshold), ("amount", amount)):
            if value is None:
                errors.append(FieldError([*_LOC, name], "needed to turn auto-reload on"))
    if errors:
        raise Invalid("; ".join(error.msg for error in errors), errors=errors)
    if enabled and subscription.saved_card_token is None:
        raise Conflict(
            "auto-reload charges the app's saved card, and the app has none yet: add funds "
            "by card once (POST /v1/apps/{app_id}/funds), and that card is saved"
        )
    subscription.auto_reload_enabled = enabled
    subscription.auto_reload_threshold = threshold
    subscription.auto_reload_amount = amount
    subscription.updated_at = from_micros(now)


# --- which apps may reload ----------------------------------------------------------------


def draws_on_balance(plan: Plan) -> bool:
    """Plans whose use is paid from the balance (not the trial, not a contract)."""
    return not plan.is_trial and not plan.contract


def candidates(session: Session) -> list[tuple[str, str]]:
    """``(workspace_id, app_id)`` of every app, in any workspace, with auto-reload on and a
    booked balance below its threshold (a cheap first look; :func:`reload_if_due`
    decides under the row lock)."""
    codes = [code for code, plan in catalog(session).items() if draws_on_balance(plan)]
    booked = (
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .where(
            LedgerEntry.workspace_id == Subscription.workspace_id,
            LedgerEntry.app_id == Subscription.app_id,
        )
        .scalar_subquery()
    )
    query = (
        select(Subscription.workspace_id, Subscription.app_id)
        .where(
            Subscription.auto_reload_enabled.is_(True),
            Subscription.state == ACTIVE,
            Subscription.saved_card_token.is_not(None),
            Subscription.auto_reload_amount.is_not(None),
            Subscription.auto_reload_threshold.is_not(None),
            Subscription.plan_code.in_(codes),
            booked < Subscription.auto_reload_threshold,
        )
        .order_by(Subscription.workspace_id, Subscription.app_id)
    )
    return [(workspace_id, app_id) for workspace_id, app_id in session.execute(query)]


def _latest_card_top_up(session: Session, subscription: Subscription) -> Order | None:
    return session.scalars(
        select(Order)
        .where(
            Order.workspace_id == subscription.workspace_id,
            Order.app_id == subscription.app_id,
            Order.kind == OrderKind.ADD_FUNDS.value,
            Order.payment_method == PaymentMethod.CARD.value,
        )
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(1)
    ).first()


def armed(session: Session, subscription: Subscription, *, threshold: int) -> bool:
    """Whether the dip the app is in has not had its top-up yet (the module's rule)."""
    last = _latest_card_top_up(session, subscription)
    if last is None:
        return True
    placed = to_micros(last.created_at)
    if to_micros(subscription.updated_at) > placed:
        return True
    own_key = f"order:{last.id}"
    money_since = session.scalars(
        select(LedgerEntry.id)
        .where(
            LedgerEntry.workspace_id == subscription.workspace_id,
            LedgerEntry.app_id == subscription.app_id,
            LedgerEntry.at >= placed,
            LedgerEntry.kind.in_(_MONEY_IN),
            LedgerEntry.amount > 0,
            or_(LedgerEntry.entry_key.is_(None), LedgerEntry.entry_key != own_key),
        )
        .limit(1)
    ).first()
    if money_since is not None:
        return True
    if last.payment_status != PaymentStatus.PAID.value:
        return False
    own = session.scalars(
        select(LedgerEntry.id).where(
            LedgerEntry.workspace_id == subscription.workspace_id,
            LedgerEntry.entry_key == own_key,
        )
    ).first()
    if own is None:
        return False
    after = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.workspace_id == subscription.workspace_id,
            LedgerEntry.app_id == subscription.app_id,
            LedgerEntry.id <= own,
        )
    )
    return int(after or 0) >= threshold


# --- placing the order --------------------------------------------------------------------


def reload_if_due(
    session: Session,
    workspace: Workspace,
    subscription: Subscription,
    *,
    cards: CardProvider,
    now: Micros,
) -> Order | None:
    """Place the auto-reload order if the app is below its threshold and armed.

    The caller holds the subscription's row lock and has brought it up to date. A paid
    order lands on the balance at once (and pays a fee waiting for funds); a declined
    one is kept as ``failed``.
    """
    threshold, amount = subscription.auto_reload_threshold, subscription.auto_reload_amount
    token = subscription.saved_card_token
    if (
        not subscription.auto_reload_enabled
        or threshold is None
        or amount is None
        or token is None
        or subscription.state != ACTIVE
        or workspace.account_type == AccountType.ENTERPRISE
        or not draws_on_balance(catalog(session)[subscription.plan_code])
    ):
        return None
    balance = balance_of(session, workspace.id, subscription.app_id, now)
    if balance >= threshold or not armed(session, subscription, threshold=threshold):
        return None
    order = new_order(
        session,
        workspace_id=workspace.id,
        app_id=subscription.app_id,
        kind=OrderKind.ADD_FUNDS,
        amount=Money(amount, workspace.currency),
        method=PaymentMethod.CARD,
        now=now,
    )
    try:
        result = cards.charge(token=token, amount=charged(order), order_id=order.id)
    except InvalidToken as error:
        result = PaymentResult(Outcome.DECLINED, reason=str(error))
    apply_result(session, order, result, now=now)
    if order.payment_status == PaymentStatus.PAID.value:
        funds_landed(session, subscription, order, now=now)
    session.flush()
    log.info(
        "auto-reload order placed",
        extra={
            "workspace_id": workspace.id,
            "app_id": subscription.app_id,
            "order_id": order.id,
            "payment_status": order.payment_status,
        },
    )
    return order
