"""Amounts typed in console forms, to minor units and back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botbill.console.amounts import major_units, minor_units


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("250", "USD", 25_000),
        ("1,250.5", "USD", 125_050),
        (" 100.00 ", "EUR", 10_000),
        ("5000", "JPY", 5_000),
        ("1.234", "BHD", 1_234),
    ],
)
def test_typed_amounts(text: str, currency: str, minor: int) -> None:
    assert minor_units(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("ten", "USD", "not an amount"),
        ("1.005", "USD", "2 decimal places"),
        ("-5", "USD", "positive"),
        ("1.5", "JPY", "0 decimal places"),
        ("NaN", "USD", "positive"),
    ],
)
def test_bad_amounts_say_what_is_wrong(text: str, currency: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        minor_units(text, currency)


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["USD", "JPY", "KWD"]))
def test_shown_amounts_read_back_the_same(amount: int, currency: str) -> None:
    assert minor_units(major_units(amount, currency), currency) == amount


def test_no_amount_shows_empty() -> None:
    assert major_units(None, "USD") == ""
