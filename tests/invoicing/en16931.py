"""The EN 16931 business rules that bind botbill's documents, checked on a CII XML (the
library checks the schema; these are the rules the schema cannot see)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from xml.etree import ElementTree as ET

import facturx

from botbill.invoicing.cii import NAMESPACES


@dataclass(frozen=True)
class Figures:
    number: str
    type_code: str
    currency: str
    lines: list[Decimal]
    line_total: Decimal
    tax_basis: Decimal
    tax_total: Decimal
    grand_total: Decimal
    prepaid: Decimal
    due: Decimal
    category: str
    rate: Decimal
    seller_country: str
    buyer_country: str
    preceding: str | None


def _text(root: ET.Element, path: str) -> str:
    found = root.find(path, NAMESPACES)
    assert found is not None, f"missing {path}"
    assert found.text is not None, f"empty {path}"
    return found.text


def check(xml: bytes) -> Figures:
    """XSD-valid (Factur-X EN 16931), and the binding business rules hold."""
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    root = ET.fromstring(xml)
    assert _text(root, "rsm:ExchangedDocumentContext/*/ram:ID") == "urn:cen.eu:en16931:2017"
    settlement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
    sums = f"{settlement}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    breakdowns = root.findall(f"{settlement}/ram:ApplicableTradeTax", NAMESPACES)
    assert len(breakdowns) == 1  # one VAT category and rate per document
    (vat,) = breakdowns
    agreement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
    lines = [
        Decimal(_text(item, "ram:SpecifiedLineTradeSettlement/*/ram:LineTotalAmount"))
        for item in root.findall(
            "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem", NAMESPACES
        )
    ]
    preceding = root.find(
        f"{settlement}/ram:InvoiceReferencedDocument/ram:IssuerAssignedID", NAMESPACES
    )
    figures = Figures(
        number=_text(root, "rsm:ExchangedDocument/ram:ID"),
        type_code=_text(root, "rsm:ExchangedDocument/ram:TypeCode"),
        currency=_text(root, f"{settlement}/ram:InvoiceCurrencyCode"),
        lines=lines,
        line_total=Decimal(_text(root, f"{sums}/ram:LineTotalAmount")),
        tax_basis=Decimal(_text(root, f"{sums}/ram:TaxBasisTotalAmount")),
        tax_total=Decimal(_text(root, f"{sums}/ram:TaxTotalAmount")),
        grand_total=Decimal(_text(root, f"{sums}/ram:GrandTotalAmount")),
        prepaid=Decimal(_text(root, f"{sums}/ram:TotalPrepaidAmount")),
        due=Decimal(_text(root, f"{sums}/ram:DuePayableAmount")),
        category=_text(vat, "ram:CategoryCode"),
        rate=Decimal(_text(vat, "ram:RateApplicablePercent")),
        seller_country=_text(root, f"{agreement}/ram:SellerTradeParty/*/ram:CountryID"),
        buyer_country=_text(root, f"{agreement}/ram:BuyerTradeParty/*/ram:CountryID"),
        preceding=None if preceding is None else preceding.text,
    )
    # BR-CO-10: the sum of the lines; BR-CO-13: no allowances or charges
    assert figures.line_total == sum(figures.lines)
    assert figures.tax_basis == figures.line_total
    # BR-CO-15 and BR-CO-16: grand total, paid in advance, nothing due
    assert figures.grand_total == figures.tax_basis + figures.tax_total
    assert figures.due == figures.grand_total - figures.prepaid == 0
    # VAT breakdown (BR-CO-14, BR-S-08/09, BR-Z-08/09): one category, its basis and tax
    assert Decimal(_text(vat, "ram:BasisAmount")) == figures.tax_basis
    assert Decimal(_text(vat, "ram:CalculatedAmount")) == figures.tax_total
    assert _text(vat, "ram:TypeCode") == "VAT"
    if figures.category == "S":
        assert figures.rate > 0  # BR-S-05
        exponent = figures.tax_basis.as_tuple().exponent
        assert isinstance(exponent, int)
        expected = (figures.tax_basis * figures.rate / 100).quantize(Decimal(1).scaleb(exponent))
        assert abs(figures.tax_total - expected) <= Decimal(1).scaleb(exponent)
    else:
        assert figures.category == "Z"
        assert (figures.rate, figures.tax_total) == (Decimal(0), Decimal(0))  # BR-Z-05, -09
        assert vat.find("ram:ExemptionReason", NAMESPACES) is None  # BR-Z-10
    for item in root.findall(
        "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem", NAMESPACES
    ):
        tax = "ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax"
        assert _text(item, f"{tax}/ram:CategoryCode") == figures.category
        assert Decimal(_text(item, "ram:SpecifiedLineTradeAgreement/*/ram:ChargeAmount")) >= 0
    # BR-9, BR-11 countries; BR-S-02 / BR-Z-02 the seller's VAT identifier; BR-6, BR-7
    assert len(figures.seller_country) == 2
    assert len(figures.buyer_country) == 2
    seller = f"{agreement}/ram:SellerTradeParty"
    registration = root.find(f"{seller}/ram:SpecifiedTaxRegistration/ram:ID", NAMESPACES)
    assert registration is not None
    assert registration.get("schemeID") == "VA"
    assert _text(root, f"{seller}/ram:Name")
    assert _text(root, f"{agreement}/ram:BuyerTradeParty/ram:Name")
    # BT-3: 380 invoice, 381 credit note, and a credit note's amounts are positive
    assert figures.type_code in ("380", "381")
    assert figures.grand_total >= 0
    return figures
