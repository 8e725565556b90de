"""What an invoice says (SPEC §4), as plain values: tax, totals, VAT category, numbers,
the credit note that cancels an invoice, and what a billing profile may hold.

Amounts are integer minor units of the invoice's currency; a tax rate is a ``Decimal``
(never a float). ``now`` and every other input is passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum

from botbill.kit.instants import Micros, from_micros

# --- tax ----------------------------------------------------------------------------------

MAX_RATE_PLACES = 4
"""A rate has at most four decimal places (a percentage with two, e.g. 0.0825)."""

_RATE = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def parse_tax_rate(text: str) -> Decimal:
    """A tax rate written as a decimal string (``"0.18"``): 0 <= rate < 1, at most four
    decimal places. Anything else is a ValueError saying what is wrong."""
    if not _RATE.fullmatch(text):
        raise ValueError(f"{text!r} is not a decimal number written like 0.18")
    try:
        rate = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already refused it
        raise ValueError(f"{text!r} is not a decimal number written like 0.18") from None
    if not rate < 1:
        raise ValueError(f"a tax rate is a fraction below 1 (0.18 for 18%), not {text}")
    if -rate.as_tuple().exponent > MAX_RATE_PLACES:  # type: ignore[operator]
        raise ValueError(f"a tax rate has at most {MAX_RATE_PLACES} decimal places, not {text}")
    return rate


def rate_text(rate: Decimal) -> str:
    """The canonical text of a rate: ``0.18``, ``0.2``, ``0``."""
    text = format(rate.normalize(), "f")
    return "0" if Decimal(text) == 0 else text


def tax_of(subtotal: int, rate: Decimal) -> int:
    """``round_half_even(subtotal * rate)`` in minor units."""
    return int((Decimal(subtotal) * rate).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


class VatCategory(StrEnum):
    """EN 16931 VAT category codes (UNTDID 5305) botbill uses."""

    STANDARD = "S"
    ZERO = "Z"


def vat_category(rate: Decimal) -> VatCategory:
    return VatCategory.STANDARD if rate > 0 else VatCategory.ZERO


# --- lines and totals ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    description: str
    quantity: int
    unit_price: int

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: int
    tax_rate: Decimal
    tax: int
    total: int

    @property
    def vat_category(self) -> VatCategory:
        return vat_category(self.tax_rate)


def totals_of(lines: tuple[Line, ...] | list[Line], rate: Decimal) -> Totals:
    """Net lines, tax added on top: total = subtotal + tax."""
    subtotal = sum(line.amount for line in lines)
    tax = tax_of(subtotal, rate)
    return Totals(subtotal=subtotal, tax_rate=rate, tax=tax, total=subtotal + tax)


def negated(lines: tuple[Line, ...], totals: Totals) -> tuple[tuple[Line, ...], Totals]:
    """A credit note's lines and totals: the invoice's, every amount negative, so that
    the two add up to zero line by line and in total."""
    return (
        tuple(replace(line, unit_price=-line.unit_price) for line in lines),
        replace(totals, subtotal=-totals.subtotal, tax=-totals.tax, total=-totals.total),
    )


# --- numbers ------------------------------------------------------------------------------


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


PREFIXES = {DocumentKind.INVOICE: "INV", DocumentKind.CREDIT_NOTE: "CN"}
SERIES_CAPACITY = 999_999
"""Numbers of one kind in one year: six digits."""

_NUMBER = re.compile(r"^(INV|CN)-([0-9]{4})-([0-9]{6})$")


class SeriesFull(Exception):
    """A year's series has used all of its six-digit numbers."""


def series_year(now: Micros) -> int:
    """A number's series is the calendar year of its issue, in UTC."""
    return from_micros(now).astimezone(UTC).year


def number_of(kind: DocumentKind, year: int, sequence: int) -> str:
    """``INV-2026-000042``: the ``sequence``-th document of ``kind`` in ``year``."""
    if not 1 <= sequence <= SERIES_CAPACITY:
        raise SeriesFull(f"the {PREFIXES[kind]}-{year} series holds numbers 1 to 999999")
    return f"{PREFIXES[kind]}-{year:04d}-{sequence:06d}"


def parse_number(number: str) -> tuple[DocumentKind, int, int]:
    found = _NUMBER.fullmatch(number)
    if found is None:
        raise ValueError(f"{number!r} is not an invoice or credit note number")
    kind = next(kind for kind, prefix in PREFIXES.items() if prefix == found[1])
    return kind, int(found[2]), int(found[3])


def year_start(year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=UTC)


# --- billing profiles ---------------------------------------------------------------------

MAX_ADDRESS_LINES = 5
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


@dataclass(frozen=True, slots=True)
class Party:
    """A seller or a buyer as an invoice names them."""

    legal_name: str
    address_lines: tuple[str, ...]
    country: str
    tax_id: str | None
    email: str | None


def check_email(address: str) -> str:
    """An email address's syntax (``name@domain.tld``, no spaces), lowercased domain."""
    if len(address) > 254 or not _EMAIL.fullmatch(address):
        raise ValueError(f"{address!r} is not an email address (name@example.com)")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"
