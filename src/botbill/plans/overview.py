"""What the Plan list shows per app: plan, status, balance, period and notices (SPEC §3.2,
§3.6). Read-only: callers bring subscriptions up to date first (``service.refresh``).

Notices are derived from the state as it is now, so they appear and disappear with it:
``downgrade_scheduled``, ``plan_expiring``, ``plan_expired``, ``renewal_failed``,
``low_balance``, ``insufficient_funds``, ``promo_credits_expiring``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.apps.models import App
from botbill.extensions.notices import extension_notices
from botbill.kit.instants import Micros
from botbill.kit.money import Money
from botbill.plans.catalog import Plan
from botbill.plans.catalog_store import catalog
from botbill.plans.models import Subscription, SubscriptionPeriod
from botbill.plans.periods import local_date_text
from botbill.plans.service import CANCELLED, EXPIRED, RENEWAL_FAILED, RENEWAL_OFF
from botbill.wallet.balances import balances_of, live_promotions
from botbill.wallet.entitlement import (
    EXPIRING_WITHIN,
    Decision,
    Facts,
    Reason,
    Status,
    decide,
    status,
)
from botbill.wallet.rating import Allowance
from botbill.workspaces.models import Workspace


@dataclass(frozen=True, slots=True)
class Notice:
    type: str
    detail: str


@dataclass(frozen=True, slots=True)
class Sessions:
    """Billing sessions rated into a period, by unit."""

    usage: int = 0
    alert: int = 0
    voice: int = 0

    def __add__(self, other: Sessions) -> Sessions:
        return Sessions(
            self.usage + other.usage, self.alert + other.alert, self.voice + other.voice
        )


@dataclass(frozen=True, slots=True)
class Unbooked:
    """What the rater has yet to book for one app (its queued charges and seat-days):
    a read adds it to what is booked, so it shows what the rater will book, whoever is
    rating at that instant."""

    balance_change: int = 0
    remaining: Mapping[int, Allowance] = field(default_factory=dict)
    """Per period id: the allowance left once the queued charges are rated."""
    sessions: Mapping[int, Sessions] = field(default_factory=dict)
    """Per period id: the sessions the queued charges add (refunds subtract)."""


NOTHING_UNBOOKED = Unbooked()


@dataclass(frozen=True, slots=True)
class Overview:
    app: App
    subscription: Subscription
    plan: Plan
    period: SubscriptionPeriod
    remaining: Allowance
    """What is left of the period's included sessions."""
    used: Sessions
    """The sessions rated into the period."""
    balance: Money
    decision: Decision
    status: Status
    notices: list[Notice]
    scheduled_plan: Plan | None


def remaining_allowance(period: SubscriptionPeriod) -> Allowance:
    return Allowance(
        max(period.included_billing - period.drawn_billing, 0),
        max(period.included_voice - period.drawn_voice, 0),
    )


def period_sessions(period: SubscriptionPeriod) -> Sessions:
    return Sessions(period.usage_sessions, period.alert_sessions, period.voice_sessions)


def facts_of(
    subscription: Subscription,
    plan: Plan,
    period: SubscriptionPeriod,
    balance: int,
    unbooked: Unbooked = NOTHING_UNBOOKED,
) -> Facts:
    return Facts(
        plan=plan,
        cancelled=subscription.state == CANCELLED,
        expired=subscription.state == EXPIRED,
        period_end=subscription.period_end,
        renews=not plan.is_trial and (subscription.renew or plan.fee_amount == 0),
        remaining=unbooked.remaining.get(period.id, remaining_allowance(period)),
        balance=balance + unbooked.balance_change,
        fee_unpaid=subscription.unpaid_order_id is not None,
    )


def overviews(
    session: Session,
    workspace: Workspace,
    apps: Sequence[App],
    *,
    now: Micros,
    low_balance: int,
    unbooked: Mapping[str, Unbooked] | None = None,
) -> list[Overview]:
    """One overview per app that has a subscription, in the order of ``apps``; with
    ``unbooked``, what the rater has yet to book is shown as booked."""
    if not apps:
        return []
    ids = [app.id for app in apps]
    subscriptions = {
        s.app_id: s
        for s in session.scalars(
            select(Subscription).where(
                Subscription.workspace_id == workspace.id, Subscription.app_id.in_(ids)
            )
        )
    }
    periods = {
        p.id: p
        for p in session.scalars(
            select(SubscriptionPeriod).where(
                SubscriptionPeriod.id.in_([s.period_id for s in subscriptions.values()])
            )
        )
    }
    balances = balances_of(session, workspace.id, ids, now)
    plans = catalog(session)
    extensions = extension_notices(session, workspace.id, ids, now)
    result = []
    for app in apps:
        subscription = subscriptions.get(app.id)
        if subscription is None:
            continue
        plan = plans[subscription.plan_code]
        period = periods[subscription.period_id]
        pending = (unbooked or {}).get(app.id, NOTHING_UNBOOKED)
        facts = facts_of(subscription, plan, period, balances[app.id], pending)
        decision = decide(facts, now)
        shown = status(facts, now)
        scheduled = (
            plans.get(subscription.scheduled_plan_code)
            if subscription.scheduled_plan_code
            else None
        )
        notices = _notices(
            session,
            workspace,
            subscription,
            facts=facts,
            decision=decision,
            shown=shown,
            scheduled=scheduled,
            now=now,
            low_balance=low_balance,
        ) + extensions.get(app.id, [])
        result.append(
            Overview(
                app=app,
                subscription=subscription,
                plan=plan,
                period=period,
                remaining=facts.remaining,
                used=period_sessions(period) + pending.sessions.get(period.id, Sessions()),
                balance=Money(facts.balance, workspace.currency),
                decision=decision,
                status=shown,
                notices=notices,
                scheduled_plan=scheduled,
            )
        )
    return result


def _notices(
    session: Session,
    workspace: Workspace,
    subscription: Subscription,
    *,
    facts: Facts,
    decision: Decision,
    shown: Status,
    scheduled: Plan | None,
    now: Micros,
    low_balance: int,
) -> list[Notice]:
    tz = workspace.timezone
    end = local_date_text(subscription.period_end, tz)
    notices: list[Notice] = []
    if scheduled is not None:
        notices.append(
            Notice("downgrade_scheduled", f"moves to the {scheduled.code} plan on {end}")
        )
    if shown is Status.EXPIRING:
        notices.append(Notice("plan_expiring", f"the {facts.plan.code} plan ends on {end}"))
    if shown is Status.EXPIRED:
        why = " (renewal was off)" if subscription.expired_because == RENEWAL_OFF else ""
        notices.append(Notice("plan_expired", f"the {facts.plan.code} plan ended on {end}{why}"))
    if subscription.state == EXPIRED and subscription.expired_because == RENEWAL_FAILED:
        notices.append(Notice("renewal_failed", f"the renewal due on {end} could not be paid"))
    # A cancelled app is not used any more: its balance is no news.
    draws_on_balance = not facts.plan.is_trial and not facts.plan.contract and not facts.cancelled
    money = Money(facts.balance, workspace.currency).format()
    if decision.reason is Reason.INSUFFICIENT_FUNDS:
        notices.append(Notice("insufficient_funds", f"the balance ({money}) does not cover use"))
    elif draws_on_balance and facts.balance < low_balance:
        notices.append(Notice("low_balance", f"the balance ({money}) is low"))
    for lot in live_promotions(session, workspace.id, subscription.app_id, now):
        if lot.expires_at - now <= EXPIRING_WITHIN:
            rest = Money(lot.remaining, workspace.currency).format()
            notices.append(
                Notice(
                    "promo_credits_expiring",
                    f"{rest} of promotional credit expires on "
                    f"{local_date_text(lot.expires_at, tz)}",
                )
            )
    return notices
