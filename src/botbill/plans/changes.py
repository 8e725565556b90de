"""Plan changes (SPEC §3.5): which changes apply at once, and the unused-fee credit.

- **Upgrade** (applies at once, a new period starts): a higher fee, pay-as-you-go to a fee
  plan, leaving the trial, any change of a subscription that has expired, and a change
  between two plans of the same fee (nothing to wait for).
- **Downgrade** (scheduled for the period's end): a lower fee, a fee plan to
  pay-as-you-go.
- **Refused**: the plan it already has, back to the trial (a trial is only the start of
  an app), and anything to or from a contract plan (an operator moves workspaces to or
  from the enterprise account type).

The credit for the unused part of the old fee is ``floor(fee * unused / length)`` in
integer minor units, where ``unused`` is the time from the change to the period's end and
``length`` the period's length, both in microseconds. Rounding down never credits more than
was paid; the customer loses less than one minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from botbill.kit.instants import Micros
from botbill.plans.catalog import Plan


class ChangeKind(StrEnum):
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"


class ChangeRefused(ValueError):
    """A change no admin may make; ``operator_only`` when an operator may."""

    def __init__(self, message: str, *, operator_only: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.operator_only = operator_only


def classify(current: Plan, target: Plan, *, expired: bool) -> ChangeKind:
    """Whether moving from ``current`` to ``target`` is an upgrade or a downgrade."""
    if current.contract or target.contract:
        raise ChangeRefused(
            "moving to or from a contract plan is an operator action", operator_only=True
        )
    if target.code == current.code and not expired:
        raise ChangeRefused(f"the app is already on the {target.code!r} plan")
    if target.is_trial:
        raise ChangeRefused("a trial only starts with a new app")
    if expired or current.is_trial:
        return ChangeKind.UPGRADE
    if target.fee_amount >= current.fee_amount:
        return ChangeKind.UPGRADE
    return ChangeKind.DOWNGRADE


def unused_fee_credit(*, fee_paid: int, start: Micros, end: Micros, at: Micros) -> int:
    """The part of ``fee_paid`` for ``[start, end)`` that ``[at, end)`` did not use."""
    if fee_paid < 0:
        raise ValueError("a fee is never negative")
    if end <= start:
        raise ValueError("a period ends after it starts")
    unused = min(max(end - at, 0), end - start)
    return fee_paid * unused // (end - start)


@dataclass(frozen=True, slots=True)
class UpgradeCost:
    fee: int
    credit: int

    @property
    def due(self) -> int:
        """What the new order costs: the credit is used only against this order."""
        return max(self.fee - self.credit, 0)


def upgrade_cost(
    *, target: Plan, fee_paid: int, start: Micros, end: Micros, at: Micros
) -> UpgradeCost:
    credit = unused_fee_credit(fee_paid=fee_paid, start=start, end=end, at=at)
    return UpgradeCost(fee=target.fee_amount, credit=min(credit, target.fee_amount))
