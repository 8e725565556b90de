"""Rating one billing session: how much comes from the allowance, how much from the balance.

SPEC §3.3: each completed billing session is charged once, at the price of the plan in
force at its start, first from its period's included allowance, then from the balance.
Usage and alert sessions draw on the billing-session allowance, voice sessions on the
voice allowance. A plan that does not sell a unit (the trial past its allowance, an
enterprise contract) charges nothing for it: the session is still counted, and the
entitlement rules decide whether the app may go on.

Everything here is a plain function of plain values; a refund restores exactly what its
charge took, so any sequence of charges and refunds of the same sessions ends where it
would have ended without them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from botbill.plans.catalog import ChargeType, Plan


class Pool(StrEnum):
    BILLING = "billing"
    VOICE = "voice"


def pool_of(charge_type: ChargeType) -> Pool:
    return Pool.VOICE if charge_type is ChargeType.VOICE else Pool.BILLING


@dataclass(frozen=True, slots=True)
class Allowance:
    """What is left of a period's included sessions; never below zero."""

    billing: int
    voice: int

    def __post_init__(self) -> None:
        if self.billing < 0 or self.voice < 0:
            raise ValueError("an allowance is never below zero")

    def of(self, pool: Pool) -> int:
        return self.billing if pool is Pool.BILLING else self.voice

    def moved(self, pool: Pool, by: int) -> Allowance:
        if pool is Pool.BILLING:
            return Allowance(self.billing + by, self.voice)
        return Allowance(self.billing, self.voice + by)


@dataclass(frozen=True, slots=True)
class Draw:
    """What one charge took: ``units`` (0 or 1) of ``pool``, ``amount`` from the balance."""

    pool: Pool
    units: int
    amount: int


def full_allowance(plan: Plan) -> Allowance:
    return Allowance(plan.included_billing_sessions, plan.included_voice_sessions)


def rate_charge(plan: Plan, remaining: Allowance, charge_type: ChargeType) -> Draw:
    """The draw of one session of ``charge_type`` against ``remaining``."""
    pool = pool_of(charge_type)
    if remaining.of(pool) > 0:
        return Draw(pool=pool, units=1, amount=0)
    return Draw(pool=pool, units=0, amount=plan.price_of(charge_type) or 0)


def after_charge(remaining: Allowance, draw: Draw) -> Allowance:
    return remaining.moved(draw.pool, -draw.units)


def after_refund(remaining: Allowance, draw: Draw) -> Allowance:
    """The allowance once ``draw`` is given back (the balance gets ``draw.amount`` back)."""
    return remaining.moved(draw.pool, draw.units)


def rate_all(
    plan: Plan, remaining: Allowance, charge_types: Iterable[ChargeType]
) -> tuple[Allowance, list[Draw]]:
    """Rate sessions in the given order; returns the allowance left and each draw."""
    draws: list[Draw] = []
    for charge_type in charge_types:
        draw = rate_charge(plan, remaining, charge_type)
        remaining = after_charge(remaining, draw)
        draws.append(draw)
    return remaining, draws


def seat_days_amount(plan: Plan, seat_days: int) -> int:
    """Seat-days are never included: each costs the plan's seat-day price (0 if unsold)."""
    if seat_days < 0:
        raise ValueError("seat_days is a count")
    return seat_days * (plan.seat_day_price or 0)
