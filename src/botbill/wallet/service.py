"""The wallet's work: rating billing sessions, adding funds, the entitlement answer.

Services flush; the caller commits.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.apps.models import App
from botbill.kit.instants import Micros
from botbill.kit.money import Money
from botbill.kit.problems import Forbidden, Invalid, NotFound
from botbill.orders.models import Order
from botbill.orders.providers import CardProvider, Outcome, PaymentMethod, card_provider
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
from botbill.plans.catalog import ChargeType, Plan
from botbill.plans.models import Subscription, SubscriptionPeriod
from botbill.plans.overview import facts_of, remaining_allowance
from botbill.plans.service import ENTERPRISE_ACCOUNT, catalog, lock_current, settle_unpaid_fee
from botbill.settings import get_settings
from botbill.wallet.balances import balance_of, book
from botbill.wallet.entitlement import Decision, decide
from botbill.wallet.ledger import EntryKind
from botbill.wallet.models import LedgerEntry
from botbill.wallet.models import UsageCharge as UsageChargeRow
from botbill.wallet.rating import Allowance, Draw, Pool, after_charge, after_refund, rate_charge
from botbill.workspaces.models import Workspace

# --- rating -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UsageCharge:
    """One completed billing session to charge (+1), or one that disappeared to refund (-1)."""

    billing_session_id: int
    app_id: str
    type: ChargeType
    start: Micros
    sign: Literal[1, -1]


@dataclass(frozen=True, slots=True)
class RatingSummary:
    charged: int
    refunded: int
    ignored: int
    """Charges already booked, and refunds of sessions never charged (or refunded twice)."""
    balance_change: int


def rate(
    session: Session,
    *,
    workspace_id: str,
    charges: Sequence[UsageCharge],
    now: Micros,
    cards: CardProvider | None = None,
) -> RatingSummary:
    """Charge or refund billing sessions, each exactly once (SPEC §3.3).

    Each session is rated in the period holding its start (before the first period: the
    first), at that period's plan. Within a call refunds go first (they free allowance),
    then charges in the order they start. A repeated charge or refund changes nothing.
    One ledger entry per app and direction carries the call's total.

    Rating first brings each app's subscription up to date, which may renew it with its
    saved card: ``cards`` defaults to the provider the settings name.
    """
    if cards is None:
        cards = card_provider(get_settings().effective_card_provider)
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound(f"no workspace {workspace_id!r}")
    by_app: dict[str, list[UsageCharge]] = defaultdict(list)
    for charge in charges:
        by_app[charge.app_id].append(charge)
    charged = refunded = ignored = change = 0
    for app_id in sorted(by_app):  # in key order: concurrent raters never deadlock
        result = _rate_app(session, workspace, app_id, by_app[app_id], now=now, cards=cards)
        charged += result.charged
        refunded += result.refunded
        ignored += result.ignored
        change += result.balance_change
    return RatingSummary(charged, refunded, ignored, change)


def _period_for(
    periods: list[SubscriptionPeriod], starts: list[int], instant: Micros
) -> SubscriptionPeriod:
    index = bisect_right(starts, instant) - 1
    return periods[max(index, 0)]


def _rate_app(
    session: Session,
    workspace: Workspace,
    app_id: str,
    charges: list[UsageCharge],
    *,
    now: Micros,
    cards: CardProvider,
) -> RatingSummary:
    lock_current(session, workspace, app_id, cards=cards, now=now)
    plans = catalog(session)
    periods = list(
        session.scalars(
            select(SubscriptionPeriod)
            .where(
                SubscriptionPeriod.workspace_id == workspace.id, SubscriptionPeriod.app_id == app_id
            )
            .order_by(SubscriptionPeriod.start, SubscriptionPeriod.id)
        )
    )
    starts = [period.start for period in periods]
    by_id = {period.id: period for period in periods}
    ids = sorted({charge.billing_session_id for charge in charges})
    stored = {
        row.billing_session_id: row
        for row in session.scalars(
            select(UsageChargeRow).where(
                UsageChargeRow.workspace_id == workspace.id,
                UsageChargeRow.billing_session_id.in_(ids),
            )
        )
    }
    ordered = sorted(charges, key=lambda c: (c.sign, c.start, c.billing_session_id))
    charged = refunded = ignored = debit = credit = 0
    for charge in ordered:
        row = stored.get(charge.billing_session_id)
        if charge.sign < 0:
            if row is None or row.refunded_at is not None:
                ignored += 1
                continue
            period = by_id[row.period_id]
            draw = Draw(Pool(row.pool), row.units, row.amount)
            _move(period, after_refund(remaining_allowance(period), draw), ChargeType(row.type), -1)
            row.refunded_at = now
            credit += row.amount
            refunded += 1
            continue
        if row is not None:
            ignored += 1
            continue
        period = _period_for(periods, starts, charge.start)
        plan: Plan = plans[period.plan_code]
        draw = rate_charge(plan, remaining_allowance(period), charge.type)
        _move(period, after_charge(remaining_allowance(period), draw), charge.type, +1)
        row = UsageChargeRow(
            workspace_id=workspace.id,
            billing_session_id=charge.billing_session_id,
            app_id=app_id,
            type=charge.type.value,
            start=charge.start,
            period_id=period.id,
            plan_code=plan.code,
            pool=draw.pool.value,
            units=draw.units,
            amount=draw.amount,
            currency=workspace.currency,
            charged_at=now,
        )
        session.add(row)
        stored[charge.billing_session_id] = row
        debit += draw.amount
        charged += 1
    for kind, amount in ((EntryKind.USAGE, -debit), (EntryKind.USAGE_REFUND, credit)):
        if amount:
            book(
                session,
                workspace_id=workspace.id,
                app_id=app_id,
                currency=workspace.currency,
                kind=kind,
                amount=amount,
                at=now,
                reference="rating",
            )
    session.flush()
    return RatingSummary(charged, refunded, ignored, credit - debit)


def _move(
    period: SubscriptionPeriod, remaining: Allowance, charge_type: ChargeType, sign: int
) -> None:
    """Write an allowance and a session count back to the period row."""
    period.drawn_billing = period.included_billing - remaining.billing
    period.drawn_voice = period.included_voice - remaining.voice
    if charge_type is ChargeType.USAGE:
        period.usage_sessions += sign
    elif charge_type is ChargeType.ALERT:
        period.alert_sessions += sign
    else:
        period.voice_sessions += sign


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
    """May the app answer now? The subscription must be current (``plans.service.refresh``)."""
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
    return decide(facts_of(subscription, plan, period, balance), now)
