"""The retry schedule of API.md "Webhooks", a pure rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botbill.webhooks.schedule import HOUR, MAX_ATTEMPTS, MINUTE, SECOND, next_attempt

T = 1_800_000_000 * SECOND


def test_the_waits_after_each_failed_attempt_are_those_of_api_md() -> None:
    waits = [next_attempt(n, T) for n in range(1, MAX_ATTEMPTS)]
    assert [w - T for w in waits if w is not None] == [
        5 * SECOND,
        5 * MINUTE,
        30 * MINUTE,
        2 * HOUR,
        5 * HOUR,
        10 * HOUR,
        10 * HOUR,
    ]


def test_the_eighth_failed_attempt_is_the_last() -> None:
    assert MAX_ATTEMPTS == 8
    assert next_attempt(7, T) is not None
    assert next_attempt(8, T) is None
    assert next_attempt(9, T) is None


def test_a_delivery_is_retried_for_at_least_24_hours() -> None:
    moment = T
    for attempts in range(1, MAX_ATTEMPTS):
        due = next_attempt(attempts, moment)
        assert due is not None
        moment = due
    assert moment - T >= 24 * HOUR


def test_there_is_nothing_to_retry_before_an_attempt() -> None:
    with pytest.raises(ValueError, match="only after an attempt"):
        next_attempt(0, T)


@given(attempts=st.integers(1, MAX_ATTEMPTS - 2), failed_at=st.integers(0, 2**62))
def test_each_wait_is_at_least_the_one_before(attempts: int, failed_at: int) -> None:
    first = next_attempt(attempts, failed_at)
    second = next_attempt(attempts + 1, failed_at)
    assert first is not None
    assert second is not None
    assert failed_at < first <= second
