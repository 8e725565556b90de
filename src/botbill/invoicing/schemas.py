from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, StringConstraints

from botbill.invoicing.models import Invoice
from botbill.invoicing.profiles import Buyer, Seller
from botbill.invoicing.rules import (
    MAX_ADDRESS_LINES,
    Party,
    check_email,
    parse_tax_rate,
    rate_text,
    vat_category,
)
from botbill.kit.countries import check_country


def _printable(text: str) -> str:
    if any(ord(char) < 32 or ord(char) == 127 for char in text):
        raise ValueError("must not contain control characters (line breaks, NUL, tabs)")
    return text


def _country(code: str) -> str:
    return check_country(code.upper())


def _tax_rate(text: str) -> str:
    return rate_text(parse_tax_rate(text))


Text = Annotated[StrictStr, StringConstraints(strip_whitespace=True), AfterValidator(_printable)]
LegalName = Annotated[Text, StringConstraints(min_length=1, max_length=200)]
AddressLine = Annotated[Text, StringConstraints(min_length=1, max_length=100)]
AddressLines = Annotated[list[AddressLine], Field(max_length=MAX_ADDRESS_LINES)]
Country = Annotated[
    StrictStr,
    AfterValidator(_country),
    Field(description="ISO 3166-1 alpha-2, e.g. `DE`.", examples=["DE"]),
]
TaxId = Annotated[Text, StringConstraints(min_length=1, max_length=64)]
Email = Annotated[Text, AfterValidator(check_email)]
TaxRate = Annotated[
    StrictStr,
    AfterValidator(_tax_rate),
    Field(description="A decimal string, 0 <= rate < 1: `0.18` for 18%.", examples=["0.18"]),
]


class BillingProfileIn(BaseModel):
    """``PUT /v1/billing-profile``: the whole profile (fields left out are cleared)."""

    model_config = ConfigDict(extra="forbid")

    legal_name: LegalName
    address_lines: AddressLines = []
    country: Country
    tax_id: TaxId | None = None
    billing_email: Email | None = None
    tax_rate: TaxRate = "0"

    def party(self) -> Party:
        return Party(
            legal_name=self.legal_name,
            address_lines=tuple(self.address_lines),
            country=self.country,
            tax_id=self.tax_id,
            email=self.billing_email,
        )

    def rate(self) -> Decimal:
        return parse_tax_rate(self.tax_rate)


class BillingProfileOut(BaseModel):
    legal_name: str
    address_lines: list[str]
    country: str
    tax_id: str | None
    billing_email: str | None
    tax_rate: str
    updated_at: datetime | None = Field(description="null until an admin sets the profile.")


def billing_profile_out(buyer: Buyer) -> BillingProfileOut:
    return BillingProfileOut(
        legal_name=buyer.party.legal_name,
        address_lines=list(buyer.party.address_lines),
        country=buyer.party.country,
        tax_id=buyer.party.tax_id,
        billing_email=buyer.party.email,
        tax_rate=rate_text(buyer.tax_rate),
        updated_at=buyer.updated_at,
    )


class SellerProfileIn(BaseModel):
    """``PUT /v1/operator/seller-profile``: the whole profile."""

    model_config = ConfigDict(extra="forbid")

    legal_name: LegalName
    address_lines: AddressLines = []
    country: Country
    tax_id: TaxId = Field(description="The seller's VAT identifier (EN 16931 BT-31).")
    email: Email

    def party(self) -> Party:
        return Party(
            legal_name=self.legal_name,
            address_lines=tuple(self.address_lines),
            country=self.country,
            tax_id=self.tax_id,
            email=self.email,
        )


class SellerProfileOut(BaseModel):
    legal_name: str
    address_lines: list[str]
    country: str
    tax_id: str | None
    email: str | None
    updated_at: datetime | None = Field(description="null while the settings' defaults apply.")


def seller_profile_out(seller: Seller) -> SellerProfileOut:
    return SellerProfileOut(
        legal_name=seller.party.legal_name,
        address_lines=list(seller.party.address_lines),
        country=seller.party.country,
        tax_id=seller.party.tax_id,
        email=seller.party.email,
        updated_at=seller.updated_at,
    )


class PartyOut(BaseModel):
    legal_name: str
    address_lines: list[str]
    country: str
    tax_id: str | None
    email: str | None


class LineOut(BaseModel):
    description: str
    quantity: int
    unit_price: int = Field(description="Minor units; negative on a credit note.")
    amount: int = Field(description="quantity x unit_price, in minor units.")


class InvoiceOut(BaseModel):
    invoice_id: str
    number: str = Field(examples=["INV-2026-000042"])
    kind: Literal["invoice", "credit_note"]
    order_id: str
    app_id: str
    issued_at: datetime
    status: Literal["issued", "void"]
    seller: PartyOut
    buyer: PartyOut
    lines: list[LineOut]
    subtotal: int = Field(description="Minor units, net; negative on a credit note.")
    tax_rate: str = Field(examples=["0.18"])
    vat_category: Literal["S", "Z"] = Field(description="EN 16931: S above a 0 rate, Z at 0.")
    tax: int
    total: int = Field(description="subtotal + tax: what was charged.")
    currency: str
    payment_method: Literal["card", "wire"]
    payment_status: Literal["pending", "paid", "failed", "refunded"]
    credit_note_id: str | None = Field(description="The credit note that voided it.")
    replaced_by: str | None = Field(description="The invoice issued in its place.")
    replaces: str | None = Field(description="The voided invoice this one replaces.")
    refers_to: str | None = Field(description="A credit note's voided invoice.")
    voided_at: datetime | None
    void_reason: str | None


def invoice_out(invoice: Invoice) -> InvoiceOut:
    return InvoiceOut.model_validate(
        {
            "invoice_id": invoice.id,
            "number": invoice.number,
            "kind": invoice.kind,
            "order_id": invoice.order_id,
            "app_id": invoice.app_id,
            "issued_at": invoice.issued_at,
            "status": invoice.status,
            "seller": invoice.seller,
            "buyer": invoice.buyer,
            "lines": invoice.lines,
            "subtotal": invoice.subtotal,
            "tax_rate": invoice.tax_rate,
            "vat_category": vat_category(parse_tax_rate(invoice.tax_rate)).value,
            "tax": invoice.tax,
            "total": invoice.total,
            "currency": invoice.currency,
            "payment_method": invoice.payment_method,
            "payment_status": invoice.payment_status,
            "credit_note_id": invoice.credit_note_id,
            "replaced_by": invoice.replaced_by,
            "replaces": invoice.replaces,
            "refers_to": invoice.refers_to,
            "voided_at": invoice.voided_at,
            "void_reason": invoice.void_reason,
        }
    )


class VoidRequest(BaseModel):
    """``POST /v1/invoices/{invoice_id}/void``."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[Text, StringConstraints(min_length=1, max_length=500)]
