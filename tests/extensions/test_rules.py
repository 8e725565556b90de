"""The pure rules of plan extensions: who may ask, and where the new end falls."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botbill.extensions.rules import MAX_DAYS, RefusalKind, Standing, extended_end, refusal
from botbill.kit.instants import DAY, HOUR, to_micros
from botbill.plans.catalog import DEFAULT_CATALOG

END = to_micros(datetime(2026, 12, 26, 12, tzinfo=UTC))


def standing(**fields: Any) -> Standing:
    values: dict[str, Any] = {
        "plan": "essential",
        "enterprise_account": False,
        "cancelled": False,
        "period_end": END,
        "tz": "UTC",
    }
    values.update(fields)
    values["plan"] = DEFAULT_CATALOG[values["plan"]]
    return Standing(**values)


def test_fee_plans_and_trials_may_ask_while_running() -> None:
    for plan in ("trial", "essential", "advanced"):
        assert refusal(standing(plan=plan), days=1, now=END - 10 * DAY) is None


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"plan": "standard"}, RefusalKind.FORBIDDEN),
        ({"plan": "enterprise"}, RefusalKind.FORBIDDEN),
        ({"enterprise_account": True}, RefusalKind.FORBIDDEN),
        ({"cancelled": True}, RefusalKind.CONFLICT),
    ],
)
def test_who_may_not(fields: dict[str, object], kind: RefusalKind) -> None:
    found = refusal(standing(**fields), days=5, now=END - DAY)
    assert found is not None
    assert found.kind is kind


def test_a_just_ended_period_needs_enough_days() -> None:
    now = END + 3 * DAY
    assert refusal(standing(), days=4, now=now) is None
    found = refusal(standing(), days=3, now=now)  # would end exactly now: in the past
    assert found is not None
    assert found.kind is RefusalKind.DAYS
    assert "at least 4" in found.message
    found = refusal(standing(), days=MAX_DAYS, now=END + MAX_DAYS * DAY)
    assert found is not None
    assert found.kind is RefusalKind.CONFLICT


def test_local_days_across_dst() -> None:
    end = to_micros(datetime(2026, 10, 20, 12, tzinfo=UTC))  # 14:00 in Paris (+02:00)
    moved = extended_end(end, 10, "Europe/Paris")  # 14:00 (+01:00) on 30 October
    assert moved - end == 10 * DAY + HOUR
    assert extended_end(end, 10, "UTC") - end == 10 * DAY


@given(
    st.integers(min_value=0, max_value=4_000_000_000 * 10**6),
    st.integers(min_value=1, max_value=MAX_DAYS),
    st.sampled_from(["UTC", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe"]),
)
def test_an_extension_always_moves_the_end_forward(end: int, days: int, tz: str) -> None:
    moved = extended_end(end, days, tz)
    assert days * DAY - 2 * HOUR <= moved - end <= days * DAY + 2 * HOUR
    assert extended_end(end, days + 1, tz) > moved
