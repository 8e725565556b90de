"""The plan catalog as values (SPEC §3.1).

Amounts are integer minor units of the workspace's currency. ``None`` means "not sold on
this plan": the trial has no per-unit prices (it stops instead), enterprise is a contract
(nothing is priced here at all). Operators may add and edit plans; these are the defaults
every database starts with.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Period(StrEnum):
    MONTH = "month"
    """Calendar months anchored at the subscription's start day (``periods.py``)."""
    TRIAL = "trial"
    """One period of ``trial_days`` local days; no renewal, the app stops at its end."""


class ChargeType(StrEnum):
    USAGE = "usage"
    ALERT = "alert"
    VOICE = "voice"


TRIAL = "trial"
STANDARD = "standard"
ESSENTIAL = "essential"
ADVANCED = "advanced"
ENTERPRISE = "enterprise"


@dataclass(frozen=True, slots=True)
class Plan:
    code: str
    name: str
    fee: int | None
    """Per period; 0 for pay-as-you-go and the trial, ``None`` for a contract."""
    period: Period
    included_billing_sessions: int
    """Drawn by usage and alert sessions alike (SPEC §3.1)."""
    included_voice_sessions: int
    usage_price: int | None
    alert_price: int | None
    voice_price: int | None
    seat_day_price: int | None
    contract: bool = False
    trial_days: int = 14

    def __post_init__(self) -> None:
        for name in (
            "fee",
            "included_billing_sessions",
            "included_voice_sessions",
            "usage_price",
            "alert_price",
            "voice_price",
            "seat_day_price",
        ):
            value = getattr(self, name)
            if value is not None and (type(value) is not int or value < 0):
                raise ValueError(f"{name} must be a non-negative integer (minor units)")
        if self.contract != (self.fee is None):
            raise ValueError("a contract plan has no fee (it is billed by contract); others do")
        if not 1 <= self.trial_days <= 365:
            raise ValueError("trial_days must be 1-365")

    @property
    def is_trial(self) -> bool:
        return self.period is Period.TRIAL

    @property
    def fee_amount(self) -> int:
        """The fee to charge per period: a contract is billed outside botbill."""
        return self.fee or 0

    @property
    def pay_as_you_go(self) -> bool:
        return not self.contract and not self.is_trial and self.fee_amount == 0

    def price_of(self, charge_type: ChargeType) -> int | None:
        if charge_type is ChargeType.USAGE:
            return self.usage_price
        if charge_type is ChargeType.ALERT:
            return self.alert_price
        return self.voice_price


DEFAULT_PLANS: tuple[Plan, ...] = (
    Plan(
        code=TRIAL,
        name="Trial",
        fee=0,
        period=Period.TRIAL,
        included_billing_sessions=2_000,
        included_voice_sessions=2_000,
        usage_price=None,
        alert_price=None,
        voice_price=None,
        seat_day_price=None,
    ),
    Plan(
        code=STANDARD,
        name="Standard (pay as you go)",
        fee=0,
        period=Period.MONTH,
        included_billing_sessions=0,
        included_voice_sessions=0,
        usage_price=20,
        alert_price=20,
        voice_price=30,
        seat_day_price=200,
    ),
    Plan(
        code=ESSENTIAL,
        name="Essential",
        fee=9_900,
        period=Period.MONTH,
        included_billing_sessions=1_000,
        included_voice_sessions=0,
        usage_price=15,
        alert_price=15,
        voice_price=30,
        seat_day_price=200,
    ),
    Plan(
        code=ADVANCED,
        name="Advanced",
        fee=49_900,
        period=Period.MONTH,
        included_billing_sessions=10_000,
        included_voice_sessions=0,
        usage_price=10,
        alert_price=10,
        voice_price=25,
        seat_day_price=150,
    ),
    Plan(
        code=ENTERPRISE,
        name="Enterprise",
        fee=None,
        period=Period.MONTH,
        included_billing_sessions=0,
        included_voice_sessions=0,
        usage_price=None,
        alert_price=None,
        voice_price=None,
        seat_day_price=None,
        contract=True,
    ),
)

DEFAULT_CATALOG: dict[str, Plan] = {plan.code: plan for plan in DEFAULT_PLANS}
