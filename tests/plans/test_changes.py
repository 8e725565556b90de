"""SPEC §3.5: upgrade or downgrade, and the credit for the unused part of the old fee."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botbill.kit.instants import DAY
from botbill.plans.catalog import DEFAULT_CATALOG
from botbill.plans.changes import (
    ChangeKind,
    ChangeRefused,
    classify,
    unused_fee_credit,
    upgrade_cost,
)

UP, DOWN = ChangeKind.UPGRADE, ChangeKind.DOWNGRADE


@pytest.mark.parametrize(
    ("current", "target", "kind"),
    [
        ("trial", "standard", UP),
        ("trial", "essential", UP),
        ("trial", "advanced", UP),
        ("standard", "essential", UP),  # pay-as-you-go → fee plan
        ("standard", "advanced", UP),
        ("essential", "advanced", UP),  # higher fee
        ("advanced", "essential", DOWN),  # lower fee
        ("advanced", "standard", DOWN),  # fee plan → pay-as-you-go
        ("essential", "standard", DOWN),
    ],
)
def test_classify(current: str, target: str, kind: ChangeKind) -> None:
    assert classify(DEFAULT_CATALOG[current], DEFAULT_CATALOG[target], expired=False) is kind


def test_an_expired_subscription_changes_at_once_even_to_a_lower_fee() -> None:
    advanced, essential = DEFAULT_CATALOG["advanced"], DEFAULT_CATALOG["essential"]
    assert classify(advanced, essential, expired=True) is UP
    assert classify(essential, essential, expired=True) is UP


@pytest.mark.parametrize(
    ("current", "target", "operator_only"),
    [
        ("essential", "essential", False),
        ("standard", "trial", False),
        ("essential", "enterprise", True),
        ("enterprise", "standard", True),
    ],
)
def test_refused_changes(current: str, target: str, operator_only: bool) -> None:
    with pytest.raises(ChangeRefused) as refused:
        classify(DEFAULT_CATALOG[current], DEFAULT_CATALOG[target], expired=False)
    assert refused.value.operator_only is operator_only


def test_credit_examples() -> None:
    # Half of a 30-day period unused: half the fee.
    assert unused_fee_credit(fee_paid=9_900, start=0, end=30 * DAY, at=15 * DAY) == 4_950
    # One third unused: 3,300 exactly; one day of 31 unused: 9,900 / 31 = 319.35… → 319.
    assert unused_fee_credit(fee_paid=9_900, start=0, end=30 * DAY, at=20 * DAY) == 3_300
    assert unused_fee_credit(fee_paid=9_900, start=0, end=31 * DAY, at=30 * DAY) == 319
    # At the very start all of it, at or after the end nothing.
    assert unused_fee_credit(fee_paid=9_900, start=0, end=30 * DAY, at=0) == 9_900
    assert unused_fee_credit(fee_paid=9_900, start=0, end=30 * DAY, at=31 * DAY) == 0


def test_upgrade_cost_uses_the_credit_against_the_new_order() -> None:
    cost = upgrade_cost(
        target=DEFAULT_CATALOG["advanced"], fee_paid=9_900, start=0, end=30 * DAY, at=15 * DAY
    )
    assert (cost.fee, cost.credit, cost.due) == (49_900, 4_950, 44_950)


@given(
    fee=st.integers(0, 10**9),
    length=st.integers(1, 400 * DAY),
    data=st.data(),
)
def test_credit_is_floor_and_never_more_than_paid(
    fee: int, length: int, data: st.DataObject
) -> None:
    at = data.draw(st.integers(-DAY, length + DAY))
    credit = unused_fee_credit(fee_paid=fee, start=0, end=length, at=at)
    unused = min(max(length - at, 0), length)
    assert 0 <= credit <= fee
    # floor: credit * length <= fee * unused < (credit + 1) * length
    assert credit * length <= fee * unused < (credit + 1) * length


@given(fee=st.integers(0, 10**9), length=st.integers(1, 400 * DAY), data=st.data())
def test_credit_shrinks_as_the_period_is_used(fee: int, length: int, data: st.DataObject) -> None:
    earlier = data.draw(st.integers(0, length))
    later = data.draw(st.integers(earlier, length))
    assert unused_fee_credit(fee_paid=fee, start=0, end=length, at=later) <= unused_fee_credit(
        fee_paid=fee, start=0, end=length, at=earlier
    )
