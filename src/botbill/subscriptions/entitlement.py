"""May this app answer now? (SPEC §3.4), and the status the Plan list shows (§3.2).

One pure decision over the subscription's facts, checked in this order:

1. a cancelled subscription → ``cancelled``;
2. a contract (enterprise) plan → active: usage is tracked, funds never stop it;
3. a trial past its end → ``trial_expired``; a trial with either included allowance
   (billing or voice sessions) used up → ``allowance_exhausted``;
4. a subscription past its period's end that did not renew → ``plan_expired``;
5. a fee that is due and unpaid → ``insufficient_funds``;
6. pay-as-you-go with a balance at or below 0, or a fee plan whose billing-session
   allowance is used up with a balance at or below 0 → ``insufficient_funds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from botbill.kit.instants import DAY, Micros
from botbill.plans.catalog import Plan
from botbill.rating.rules import Allowance

EXPIRING_WITHIN: Micros = 7 * DAY


class Reason(StrEnum):
    TRIAL_EXPIRED = "trial_expired"
    ALLOWANCE_EXHAUSTED = "allowance_exhausted"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    PLAN_EXPIRED = "plan_expired"
    CANCELLED = "cancelled"


class Status(StrEnum):
    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    INACTIVE = "inactive"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Facts:
    """What the decision needs to know about one app's subscription at ``now``."""

    plan: Plan
    cancelled: bool
    expired: bool
    """The subscription ended without renewing (its state says so)."""
    period_end: Micros
    renews: bool
    """Whether the period is followed by another (fee plans with renewal on, pay-as-you-go)."""
    remaining: Allowance
    balance: int
    fee_unpaid: bool


@dataclass(frozen=True, slots=True)
class Decision:
    reason: Reason | None

    @property
    def active(self) -> bool:
        return self.reason is None


def decide(facts: Facts, now: Micros) -> Decision:
    plan = facts.plan
    if facts.cancelled:
        return Decision(Reason.CANCELLED)
    if plan.contract:
        return Decision(None)
    if plan.is_trial:
        if now >= facts.period_end:
            return Decision(Reason.TRIAL_EXPIRED)
        if facts.remaining.billing <= 0 or facts.remaining.voice <= 0:
            return Decision(Reason.ALLOWANCE_EXHAUSTED)
        return Decision(None)
    if facts.expired or (now >= facts.period_end and not facts.renews):
        return Decision(Reason.PLAN_EXPIRED)
    if facts.fee_unpaid:
        return Decision(Reason.INSUFFICIENT_FUNDS)
    if facts.balance <= 0 and (plan.pay_as_you_go or facts.remaining.billing <= 0):
        return Decision(Reason.INSUFFICIENT_FUNDS)
    return Decision(None)


def status(facts: Facts, now: Micros) -> Status:
    """``expiring`` = active, and the period ends within 7 days with nothing after it."""
    decision = decide(facts, now)
    if decision.reason is Reason.CANCELLED:
        return Status.CANCELLED
    if decision.reason in (Reason.TRIAL_EXPIRED, Reason.PLAN_EXPIRED):
        return Status.EXPIRED
    if decision.reason is not None:
        return Status.INACTIVE
    ends = not facts.renews and not facts.plan.contract
    if ends and facts.period_end - now <= EXPIRING_WITHIN:
        return Status.EXPIRING
    return Status.ACTIVE
