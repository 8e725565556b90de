"""SPEC §3.1: the default catalog, as values."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from botbill.plans.catalog import DEFAULT_CATALOG, DEFAULT_PLANS, ChargeType, Period


def test_the_default_catalog_is_the_spec_table() -> None:
    rows = [
        (
            p.code,
            p.fee,
            p.period,
            p.included_billing_sessions,
            p.included_voice_sessions,
            p.usage_price,
            p.alert_price,
            p.voice_price,
            p.seat_day_price,
            p.contract,
        )
        for p in DEFAULT_PLANS
    ]
    assert rows == [
        ("trial", 0, Period.TRIAL, 2_000, 2_000, None, None, None, None, False),
        ("standard", 0, Period.MONTH, 0, 0, 20, 20, 30, 200, False),
        ("essential", 9_900, Period.MONTH, 1_000, 0, 15, 15, 30, 200, False),
        ("advanced", 49_900, Period.MONTH, 10_000, 0, 10, 10, 25, 150, False),
        ("enterprise", None, Period.MONTH, 0, 0, None, None, None, None, True),
    ]
    assert DEFAULT_CATALOG["trial"].trial_days == 14


def test_plan_kinds() -> None:
    kinds = {
        code: (plan.is_trial, plan.pay_as_you_go, plan.contract, plan.fee_amount)
        for code, plan in DEFAULT_CATALOG.items()
    }
    assert kinds == {
        "trial": (True, False, False, 0),
        "standard": (False, True, False, 0),
        "essential": (False, False, False, 9_900),
        "advanced": (False, False, False, 49_900),
        "enterprise": (False, False, True, 0),
    }


def test_prices_by_charge_type() -> None:
    advanced = DEFAULT_CATALOG["advanced"]
    assert [advanced.price_of(t) for t in ChargeType] == [10, 10, 25]


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_amounts_are_non_negative_integers(bad: Any) -> None:
    base = DEFAULT_CATALOG["standard"]
    with pytest.raises(ValueError, match="usage_price"):
        replace(base, usage_price=bad)
