"""What a plan change would do, shown before the admin confirms it (SPEC §3.5).

A read: it locks, orders and charges nothing. It applies the same pure rules as the
change itself (``plans.changes.classify`` and ``upgrade_cost``) to the subscription as
the Plan list shows it, and the buyer's tax rate as ``orders.service.set_method`` does, so
the figures shown are the figures charged.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from botbill.invoicing.profiles import buyer_profile
from botbill.invoicing.rules import tax_of
from botbill.kit.instants import Micros
from botbill.kit.money import Money
from botbill.kit.problems import Conflict, Forbidden, Invalid
from botbill.plans.catalog_store import catalog
from botbill.plans.changes import ChangeKind, ChangeRefused, classify, upgrade_cost
from botbill.subscriptions.entitlement import Status
from botbill.subscriptions.overview import overviews
from botbill.workspaces.models import AccountType
from botbill.workspaces.service import get_app, get_workspace


@dataclass(frozen=True, slots=True)
class Quote:
    """An upgrade's order (fee, unused-fee credit, what is due, and by card with tax), or
    a downgrade's date."""

    kind: ChangeKind
    plan: str
    plan_name: str
    fee: Money
    credit: Money
    due: Money
    card_tax: Money
    card_total: Money
    takes_effect: Micros
    """Now for an upgrade, the period's end for a downgrade."""


def quote_change(
    session: Session, *, workspace_id: str, app_id: str, plan_code: str, now: Micros
) -> Quote:
    """The change to ``plan_code`` as :func:`plans.switching.change_plan` would make it now;
    the same refusals, with the same wording."""
    workspace = get_workspace(session, workspace_id)
    app = get_app(session, workspace.id, app_id)
    if workspace.account_type == AccountType.ENTERPRISE:
        raise Forbidden("an enterprise workspace's plans are set by contract, by an operator")
    plans = catalog(session)
    target = plans.get(plan_code)
    if target is None:
        raise Invalid.at(["body", "plan"], f"unknown plan {plan_code!r}")
    found = overviews(session, workspace, [app], now=now, low_balance=0)
    if not found:
        raise Conflict(f"app {app_id!r} has no subscription yet")
    overview = found[0]
    expired = overview.status in (Status.EXPIRED, Status.CANCELLED)
    if target.code == overview.plan.code and not expired:
        raise Conflict(f"the app is already on the {target.code!r} plan")
    try:
        kind = classify(overview.plan, target, expired=expired)
    except ChangeRefused as refused:
        raise Forbidden(refused.message) from None
    currency = workspace.currency
    period = overview.period
    if kind is ChangeKind.DOWNGRADE:
        zero = Money(0, currency)
        at = overview.subscription.period_end
        return Quote(kind, target.code, target.name, zero, zero, zero, zero, zero, at)
    cost = upgrade_cost(
        target=target, fee_paid=period.fee_paid, start=period.start, end=period.end, at=now
    )
    tax = tax_of(cost.due, buyer_profile(session, workspace).tax_rate)
    return Quote(
        kind=kind,
        plan=target.code,
        plan_name=target.name,
        fee=Money(cost.fee, currency),
        credit=Money(cost.credit, currency),
        due=Money(cost.due, currency),
        card_tax=Money(tax, currency),
        card_total=Money(cost.due + tax, currency),
        takes_effect=now,
    )
