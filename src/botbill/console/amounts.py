"""Amounts as people type them in console forms (``250``, ``1,250.50``) and back.

Forms take major units of the workspace's currency; everything behind them takes integer
minor units. The conversion is exact (decimal text, never a float) and refuses more
decimals than the currency has.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from botbill.kit.money import CURRENCY_EXPONENTS


def minor_units(text: str, currency: str) -> int:
    """``"250.5"`` in USD is 25050; a ValueError says what is wrong with other text."""
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    cleaned = text.strip().replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text.strip()!r} is not an amount; type e.g. 250 or 250.50") from None
    if not value.is_finite() or value < 0:
        raise ValueError("an amount is a positive number")
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{currency} has {exponent} decimal places at most")
    return int(scaled)


def major_units(amount: int | None, currency: str) -> str:
    """What a form shows for a stored amount: ``25050`` in USD is ``"250.50"``."""
    if amount is None:
        return ""
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    return f"{Decimal(amount).scaleb(-exponent):.{exponent}f}"
