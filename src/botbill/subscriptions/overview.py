"""What the Plan list shows per app: plan, status, balance, period and notices (SPEC §3.2,
§3.6). Read-only: callers bring subscriptions up to date first (``service.refresh``).

Notices are derived from the state as it is now, so they appear and disappear with it:
``downgrade_scheduled``, ``plan_expiring``, ``plan_expired``, ``renewal_failed``,
``low_balance``, ``insufficient_funds``, ``promo_credits_expiring``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.extensions.notices import extension_notices
from botbill.kit.instants import Micros
from botbill.kit.money import Money
from botbill.ledger.balances import balances_of, live_promotions
from botbill.ledger.entries import EntryKind
from botbill.ledger.models import LedgerEntry
from botbill.plans.catalog import Plan
from botbill.plans.catalog_store import catalog
from botbill.plans.models import Subscription, SubscriptionPeriod
from botbill.plans.notices import Notice, NoticeType
from botbill.plans.periods import local_date_text
from botbill.plans.service import CANCELLED, EXPIRED, RENEWAL_FAILED, RENEWAL_OFF
from botbill.rating.charges import remaining_allowance
from botbill.rating.rules import Allowance
from botbill.rating.unbooked import NOTHING_UNBOOKED, Sessions, Unbooked
from botbill.subscriptions.entitlement import (
    EXPIRING_WITHIN,
    Decision,
    Facts,
    Reason,
    Status,
    decide,
    status,
)
from botbill.workspaces.models import App, Workspace


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
    promoted = _with_live_promotions(session, workspace.id, ids, now)
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
            promoted=app.id in promoted,
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
    promoted: bool,
) -> list[Notice]:
    tz = workspace.timezone
    end = local_date_text(subscription.period_end, tz)
    notices: list[Notice] = []

    def add(kind: NoticeType, detail: str) -> None:
        notices.append(Notice(kind, detail))

    if scheduled is not None:
        add(NoticeType.DOWNGRADE_SCHEDULED, f"moves to the {scheduled.code} plan on {end}")
    if shown is Status.EXPIRING:
        add(NoticeType.PLAN_EXPIRING, f"the {facts.plan.code} plan ends on {end}")
    if shown is Status.EXPIRED:
        why = " (renewal was off)" if subscription.expired_because == RENEWAL_OFF else ""
        add(NoticeType.PLAN_EXPIRED, f"the {facts.plan.code} plan ended on {end}{why}")
    if subscription.state == EXPIRED and subscription.expired_because == RENEWAL_FAILED:
        add(NoticeType.RENEWAL_FAILED, f"the renewal due on {end} could not be paid")
    # A cancelled app is not used any more: its balance is no news.
    draws_on_balance = not facts.plan.is_trial and not facts.plan.contract and not facts.cancelled
    money = Money(facts.balance, workspace.currency).format()
    if decision.reason is Reason.INSUFFICIENT_FUNDS:
        add(NoticeType.INSUFFICIENT_FUNDS, f"the balance ({money}) does not cover use")
    elif draws_on_balance and facts.balance < low_balance:
        add(NoticeType.LOW_BALANCE, f"the balance ({money}) is low")
    lots = live_promotions(session, workspace.id, subscription.app_id, now) if promoted else []
    for lot in lots:
        if lot.expires_at - now <= EXPIRING_WITHIN:
            rest = Money(lot.remaining, workspace.currency).format()
            notices.append(
                Notice(
                    NoticeType.PROMO_CREDITS_EXPIRING,
                    f"{rest} of promotional credit expires on "
                    f"{local_date_text(lot.expires_at, tz)}",
                )
            )
    return notices


def _with_live_promotions(
    session: Session, workspace_id: str, app_ids: Sequence[str], now: Micros
) -> set[str]:
    """The apps that hold a promotional grant not yet expired, in one query: the Plan list
    reads the others' ledgers for nothing (a 500-app page asked 500 times)."""
    return set(
        session.scalars(
            select(LedgerEntry.app_id)
            .where(
                LedgerEntry.workspace_id == workspace_id,
                LedgerEntry.app_id.in_(app_ids),
                LedgerEntry.kind == EntryKind.PROMO_GRANT.value,
                LedgerEntry.expires_at > now,
            )
            .distinct()
        )
    )
