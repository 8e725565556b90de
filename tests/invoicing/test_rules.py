"""SPEC §4's invoice rules as plain values: tax, totals, VAT category, numbers, credit
notes, profile fields."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botbill.invoicing.rules import (
    DocumentKind,
    Line,
    SeriesFull,
    VatCategory,
    check_email,
    negated,
    number_of,
    parse_number,
    parse_tax_rate,
    rate_text,
    series_year,
    tax_of,
    totals_of,
)
from botbill.kit.instants import to_micros

# --- tax ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subtotal", "rate", "tax"),
    [
        (25_000, "0.18", 4_500),
        (10_000, "0", 0),
        (49_900, "0.2", 9_980),
        (25, "0.1", 2),  # 2.5 rounds to the even 2
        (35, "0.1", 4),  # 3.5 rounds to the even 4
        (15, "0.1", 2),  # 1.5 rounds to 2
        (1, "0.5", 0),  # 0.5 rounds to 0
        (3, "0.5", 2),  # 1.5 rounds to 2
        (9_999, "0.0825", 825),  # 824.9175
        (-25, "0.1", -2),  # a credit note's tax is the invoice's, negative
    ],
)
def test_tax_is_the_subtotal_times_the_rate_rounded_half_even(
    subtotal: int, rate: str, tax: int
) -> None:
    assert tax_of(subtotal, Decimal(rate)) == tax


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("0", "0"), ("0.18", "0.18"), ("0.20", "0.2"), ("0.0825", "0.0825"), ("0.0", "0")],
)
def test_rates_are_decimal_strings_below_one(text: str, canonical: str) -> None:
    assert rate_text(parse_tax_rate(text)) == canonical


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("1", "below 1"),
        ("1.5", "below 1"),
        ("-0.1", "decimal number"),
        ("0.123456", "at most 4 decimal places"),
        ("18%", "decimal number"),
        ("", "decimal number"),
        (".5", "decimal number"),
        ("1e-1", "decimal number"),
        ("NaN", "decimal number"),
    ],
)
def test_bad_rates_say_why(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_tax_rate(text)


def test_the_vat_category_is_s_above_zero_and_z_at_zero() -> None:
    assert totals_of([Line("x", 1, 100)], Decimal("0.19")).vat_category is VatCategory.STANDARD
    assert totals_of([Line("x", 1, 100)], Decimal("0.0001")).vat_category is VatCategory.STANDARD
    assert totals_of([Line("x", 1, 100)], Decimal(0)).vat_category is VatCategory.ZERO


rates = st.decimals(min_value=0, max_value=Decimal("0.9999"), places=4)
lines = st.lists(
    st.builds(
        Line,
        description=st.text(min_size=1, max_size=20),
        quantity=st.integers(1, 100),
        unit_price=st.integers(0, 10**9),
    ),
    min_size=1,
    max_size=5,
)


@given(lines=lines, rate=rates)
def test_total_is_subtotal_plus_tax(lines: list[Line], rate: Decimal) -> None:
    totals = totals_of(lines, rate)
    assert totals.subtotal == sum(line.quantity * line.unit_price for line in lines)
    assert totals.total == totals.subtotal + totals.tax
    assert 0 <= totals.tax <= totals.subtotal
    assert abs(Decimal(totals.tax) - Decimal(totals.subtotal) * rate) <= Decimal("0.5")


@given(lines=lines, rate=rates)
def test_a_credit_note_cancels_its_invoice_exactly(lines: list[Line], rate: Decimal) -> None:
    totals = totals_of(lines, rate)
    credit_lines, credit = negated(tuple(lines), totals)
    assert credit.subtotal + totals.subtotal == 0
    assert credit.tax + totals.tax == 0
    assert credit.total + totals.total == 0
    assert credit.tax_rate == totals.tax_rate
    for line, cancel in zip(lines, credit_lines, strict=True):
        assert line.amount + cancel.amount == 0
        assert (cancel.description, cancel.quantity) == (line.description, line.quantity)
    # the credit note's own lines add up to its totals by the same rule
    assert totals_of(credit_lines, rate) == credit


# --- numbers ------------------------------------------------------------------------------


def test_numbers_are_prefix_year_and_six_digits() -> None:
    assert number_of(DocumentKind.INVOICE, 2026, 42) == "INV-2026-000042"
    assert number_of(DocumentKind.CREDIT_NOTE, 2027, 1) == "CN-2027-000001"
    assert number_of(DocumentKind.INVOICE, 2026, 999_999) == "INV-2026-999999"
    with pytest.raises(SeriesFull):
        number_of(DocumentKind.INVOICE, 2026, 1_000_000)
    with pytest.raises(SeriesFull):
        number_of(DocumentKind.INVOICE, 2026, 0)


@given(
    kind=st.sampled_from(DocumentKind),
    year=st.integers(2000, 9999),
    sequence=st.integers(1, 999_999),
)
def test_a_number_reads_back(kind: DocumentKind, year: int, sequence: int) -> None:
    assert parse_number(number_of(kind, year, sequence)) == (kind, year, sequence)


def test_the_series_year_is_the_utc_year() -> None:
    last = to_micros(datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC))
    assert series_year(last) == 2026
    assert series_year(last + 1) == 2027


# --- profiles -----------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["ana@example.com", "a.b+c@sub.Example.ORG"])
def test_email_addresses(address: str) -> None:
    assert check_email(address).split("@")[0] == address.split("@")[0]


@pytest.mark.parametrize(
    "address", ["ana", "ana@", "@example.com", "ana@example", "a b@example.com", "a@b@c.com"]
)
def test_not_email_addresses(address: str) -> None:
    with pytest.raises(ValueError, match="not an email address"):
        check_email(address)
