"""SPEC §3.4: may this app answer now? And §3.2: the status of its subscription."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botbill.kit.instants import DAY
from botbill.plans.catalog import DEFAULT_CATALOG, DEFAULT_PLANS, Plan
from botbill.rating.rules import Allowance
from botbill.subscriptions.entitlement import Facts, Reason, Status, decide, status

NOW = 100 * DAY


def facts(plan: str, **changes: object) -> Facts:
    base = Facts(
        plan=DEFAULT_CATALOG[plan],
        cancelled=False,
        expired=False,
        period_end=NOW + 20 * DAY,
        renews=plan != "trial",
        remaining=Allowance(10, 10),
        balance=10_000,
        fee_unpaid=False,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        (facts("trial"), None),
        (facts("trial", period_end=NOW), Reason.TRIAL_EXPIRED),
        (facts("trial", remaining=Allowance(0, 10)), Reason.ALLOWANCE_EXHAUSTED),
        (facts("trial", remaining=Allowance(10, 0)), Reason.ALLOWANCE_EXHAUSTED),
        (facts("trial", balance=-5), None),  # a trial never draws on the balance
        (facts("standard"), None),
        (facts("standard", balance=0), Reason.INSUFFICIENT_FUNDS),
        (facts("standard", balance=-1), Reason.INSUFFICIENT_FUNDS),
        (facts("essential", balance=0), None),  # the allowance still has sessions
        (facts("essential", balance=0, remaining=Allowance(0, 0)), Reason.INSUFFICIENT_FUNDS),
        (facts("essential", balance=1, remaining=Allowance(0, 0)), None),  # overage is paid
        (facts("essential", fee_unpaid=True), Reason.INSUFFICIENT_FUNDS),
        (facts("advanced", expired=True), Reason.PLAN_EXPIRED),
        (facts("advanced", renews=False, period_end=NOW), Reason.PLAN_EXPIRED),
        (facts("advanced", cancelled=True), Reason.CANCELLED),
        (facts("enterprise", balance=-(10**9), remaining=Allowance(0, 0)), None),
        (facts("enterprise", cancelled=True), Reason.CANCELLED),
    ],
)
def test_decisions(case: Facts, reason: Reason | None) -> None:
    decision = decide(case, NOW)
    assert decision.reason is reason
    assert decision.active is (reason is None)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (facts("advanced"), Status.ACTIVE),
        (facts("advanced", period_end=NOW + 3 * DAY), Status.ACTIVE),  # it renews
        (facts("advanced", period_end=NOW + 7 * DAY, renews=False), Status.EXPIRING),
        (facts("trial", period_end=NOW + 6 * DAY), Status.EXPIRING),
        (facts("trial", period_end=NOW + 8 * DAY), Status.ACTIVE),
        (facts("trial", period_end=NOW), Status.EXPIRED),
        (facts("advanced", expired=True), Status.EXPIRED),
        (facts("standard", balance=0), Status.INACTIVE),
        (facts("trial", remaining=Allowance(0, 1)), Status.INACTIVE),
        (facts("standard", cancelled=True), Status.CANCELLED),
    ],
)
def test_statuses(case: Facts, expected: Status) -> None:
    assert status(case, NOW) is expected


@given(
    plan=st.sampled_from(DEFAULT_PLANS),
    balance=st.integers(-(10**9), 10**9),
    billing=st.integers(0, 5),
    voice=st.integers(0, 5),
    expired=st.booleans(),
    fee_unpaid=st.booleans(),
    end=st.integers(-30, 30),
)
def test_enterprise_is_never_refused_for_funds_and_more_money_never_hurts(
    plan: Plan, balance: int, billing: int, voice: int, expired: bool, fee_unpaid: bool, end: int
) -> None:
    case = Facts(
        plan=plan,
        cancelled=False,
        expired=expired,
        period_end=NOW + end * DAY,
        renews=not plan.is_trial,
        remaining=Allowance(billing, voice),
        balance=balance,
        fee_unpaid=fee_unpaid,
    )
    decision = decide(case, NOW)
    if plan.contract:
        assert decision.active
    if decision.active:
        assert decide(replace(case, balance=balance + 1), NOW).active
    if decision.reason is Reason.INSUFFICIENT_FUNDS and not fee_unpaid:
        assert decide(replace(case, balance=1), NOW).active
