"""An issued document as plain values, ready to render (PDF) or to serialize (CII XML)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from botbill.invoicing.rules import DocumentKind, Line, Party, Totals, VatCategory
from botbill.kit.money import CURRENCY_EXPONENTS


@dataclass(frozen=True, slots=True)
class Document:
    number: str
    kind: DocumentKind
    issued_at: datetime
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    totals: Totals
    """As the JSON shows them: negative on a credit note."""
    currency: str
    payment_method: str
    payment_status: str
    order_id: str
    app_id: str
    void: bool
    preceding: str | None
    """The number of the invoice a credit note cancels, or a replacement replaces."""

    @property
    def vat_category(self) -> VatCategory:
        return self.totals.vat_category

    @property
    def type_code(self) -> str:
        """UNTDID 1001: 380 commercial invoice, 381 credit note."""
        return "381" if self.kind is DocumentKind.CREDIT_NOTE else "380"


def decimal_amount(minor: int, currency: str) -> Decimal:
    """Minor units as the currency's decimal amount: 2_025 USD → 20.25."""
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    return Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def percent(rate: Decimal) -> Decimal:
    """A rate as the percentage EN 16931 writes (0.081 → 8.1), without trailing zeros."""
    value = (rate * 100).normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral() else value
