"""SPEC §3.3: rating draws on the period's allowance first, then on the balance."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from botbill.plans.catalog import DEFAULT_CATALOG, DEFAULT_PLANS, ChargeType, Plan
from botbill.rating.rules import (
    Allowance,
    Draw,
    Pool,
    after_charge,
    after_refund,
    full_allowance,
    rate_all,
    rate_charge,
    seat_days_amount,
)

USAGE, ALERT, VOICE = ChargeType.USAGE, ChargeType.ALERT, ChargeType.VOICE


def test_essential_overage_after_the_allowance() -> None:
    essential = DEFAULT_CATALOG["essential"]
    left, draws = rate_all(essential, Allowance(billing=2, voice=0), [USAGE, ALERT, USAGE, VOICE])
    assert draws == [
        Draw(Pool.BILLING, 1, 0),
        Draw(Pool.BILLING, 1, 0),
        Draw(Pool.BILLING, 0, 15),
        Draw(Pool.VOICE, 0, 30),
    ]
    assert left == Allowance(0, 0)


def test_standard_draws_everything_from_the_balance() -> None:
    standard = DEFAULT_CATALOG["standard"]
    _, draws = rate_all(standard, full_allowance(standard), [USAGE, ALERT, VOICE])
    assert [d.amount for d in draws] == [20, 20, 30]


def test_trial_counts_voice_on_its_own_allowance_and_never_charges() -> None:
    trial = DEFAULT_CATALOG["trial"]
    left, draws = rate_all(trial, Allowance(billing=1, voice=1), [VOICE, USAGE, USAGE, VOICE])
    assert left == Allowance(0, 0)
    assert [d.amount for d in draws] == [0, 0, 0, 0]
    assert [d.units for d in draws] == [1, 1, 0, 0]


def test_enterprise_is_tracked_not_charged() -> None:
    enterprise = DEFAULT_CATALOG["enterprise"]
    _, draws = rate_all(enterprise, full_allowance(enterprise), [USAGE, VOICE])
    assert [d.amount for d in draws] == [0, 0]


def test_seat_days() -> None:
    assert seat_days_amount(DEFAULT_CATALOG["advanced"], 3) == 450
    assert seat_days_amount(DEFAULT_CATALOG["trial"], 3) == 0


types = st.lists(st.sampled_from(list(ChargeType)), max_size=60)
allowances = st.builds(Allowance, st.integers(0, 30), st.integers(0, 30))
plans = st.sampled_from(DEFAULT_PLANS)


@given(plan=plans, start=allowances, charges=types)
def test_totals_depend_only_on_the_counts(
    plan: Plan, start: Allowance, charges: list[ChargeType]
) -> None:
    """Usage and alert share one price on every default plan: order changes nothing."""
    p = plan
    left, draws = rate_all(p, start, charges)
    counts = Counter(charges)
    billing = counts[USAGE] + counts[ALERT]
    voice = counts[VOICE]
    assert left == Allowance(max(start.billing - billing, 0), max(start.voice - voice, 0))
    over_billing = max(billing - start.billing, 0)
    over_voice = max(voice - start.voice, 0)
    expected = over_billing * (p.usage_price or 0) + over_voice * (p.voice_price or 0)
    assert sum(d.amount for d in draws) == expected
    _, reversed_draws = rate_all(p, start, list(reversed(charges)))
    assert sum(d.amount for d in reversed_draws) == expected


@given(plan=plans, start=allowances, charges=types, data=st.data())
def test_refunds_restore_exactly_what_the_charges_took(
    plan: Plan, start: Allowance, charges: list[ChargeType], data: st.DataObject
) -> None:
    p = plan
    left, draws = rate_all(p, start, charges)
    refunded = data.draw(st.permutations(draws))
    balance = -sum(d.amount for d in draws)
    for draw in refunded:
        left = after_refund(left, draw)
        balance += draw.amount
    assert left == start
    assert balance == 0


@given(plan=plans, start=allowances, charges=types)
def test_the_allowance_never_goes_below_zero(
    plan: Plan, start: Allowance, charges: list[ChargeType]
) -> None:
    p = plan
    left = start
    for charge in charges:
        draw = rate_charge(p, left, charge)
        assert draw.amount >= 0
        assert draw.units in (0, 1)
        left = after_charge(left, draw)  # raises if it would go below zero
    assert left.billing >= 0
    assert left.voice >= 0
