"""The EN 16931 Cross Industry Invoice XML of a document (Factur-X profile EN 16931).

A credit note is type code 381 with positive amounts, as the standard expects; its
preceding invoice (BT-25) is the one it cancels. The order of the elements is the
schema's. Paid orders are invoiced once paid, so the amount due is 0 (paid in advance,
BT-113), which is why no payment terms or due date are needed (BR-CO-25).
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from botbill.invoicing.documents import Document, decimal_amount, percent
from botbill.invoicing.rules import Line, Party

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
EN16931 = "urn:cen.eu:en16931:2017"
NAMESPACES = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
for _prefix, _uri in NAMESPACES.items():
    ET.register_namespace(_prefix, _uri)

PAYMENT_NOTES = {"card": "Paid by card", "wire": "Paid by bank transfer"}


def _el(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    prefix, _, name = tag.partition(":")
    element = ET.SubElement(parent, f"{{{NAMESPACES[prefix]}}}{name}", attributes)
    if text is not None:
        element.text = text
    return element


def cii_xml(document: Document) -> bytes:
    root = ET.Element(f"{{{RSM}}}CrossIndustryInvoice")
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)

    header = _el(root, "rsm:ExchangedDocument")
    _el(header, "ram:ID", document.number)
    _el(header, "ram:TypeCode", document.type_code)
    issued = _el(header, "ram:IssueDateTime")
    _el(issued, "udt:DateTimeString", document.issued_at.strftime("%Y%m%d"), format="102")
    note = PAYMENT_NOTES.get(document.payment_method, document.payment_method)
    _el(_el(header, "ram:IncludedNote"), "ram:Content", f"{note}; order {document.order_id}.")

    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for index, line in enumerate(document.lines, start=1):
        _line(transaction, document, index, line)

    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", document.seller)
    _party(agreement, "ram:BuyerTradeParty", document.buyer)
    order = _el(agreement, "ram:BuyerOrderReferencedDocument")
    _el(order, "ram:IssuerAssignedID", document.order_id)
    _el(transaction, "ram:ApplicableHeaderTradeDelivery")

    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:InvoiceCurrencyCode", document.currency)
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:CalculatedAmount", _amount(document, document.totals.tax))
    _el(tax, "ram:TypeCode", "VAT")
    _el(tax, "ram:BasisAmount", _amount(document, document.totals.subtotal))
    _el(tax, "ram:CategoryCode", document.vat_category.value)
    _el(tax, "ram:RateApplicablePercent", str(percent(document.totals.tax_rate)))
    sums = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    total = _amount(document, document.totals.total)
    _el(sums, "ram:LineTotalAmount", _amount(document, document.totals.subtotal))
    _el(sums, "ram:TaxBasisTotalAmount", _amount(document, document.totals.subtotal))
    _el(
        sums,
        "ram:TaxTotalAmount",
        _amount(document, document.totals.tax),
        currencyID=document.currency,
    )
    _el(sums, "ram:GrandTotalAmount", total)
    _el(sums, "ram:TotalPrepaidAmount", total)
    _el(sums, "ram:DuePayableAmount", _amount(document, 0))
    if document.preceding is not None:
        preceding = _el(settlement, "ram:InvoiceReferencedDocument")
        _el(preceding, "ram:IssuerAssignedID", document.preceding)
    xml: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return xml


def _amount(document: Document, minor: int) -> str:
    """A credit note's amounts are positive in the XML (its type code says it credits)."""
    return str(decimal_amount(abs(minor), document.currency))


def _line(transaction: ET.Element, document: Document, index: int, line: Line) -> None:
    item = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
    _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(index))
    _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
    agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
    price = _el(agreement, "ram:NetPriceProductTradePrice")
    _el(price, "ram:ChargeAmount", _amount(document, line.unit_price))
    delivery = _el(item, "ram:SpecifiedLineTradeDelivery")
    _el(delivery, "ram:BilledQuantity", str(line.quantity), unitCode="C62")
    settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:TypeCode", "VAT")
    _el(tax, "ram:CategoryCode", document.vat_category.value)
    _el(tax, "ram:RateApplicablePercent", str(percent(document.totals.tax_rate)))
    sums = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _el(sums, "ram:LineTotalAmount", _amount(document, line.amount))


def _party(agreement: ET.Element, tag: str, party: Party) -> None:
    element = _el(agreement, tag)
    _el(element, "ram:Name", party.legal_name)
    address = _el(element, "ram:PostalTradeAddress")
    lines = list(party.address_lines)
    # CII has three address lines: a longer address keeps its rest on the third.
    for name, text in zip(
        ("ram:LineOne", "ram:LineTwo", "ram:LineThree"),
        [*lines[:2], ", ".join(lines[2:])],
        strict=False,
    ):
        if text:
            _el(address, name, text)
    _el(address, "ram:CountryID", party.country)
    if party.email:
        contact = _el(element, "ram:URIUniversalCommunication")
        _el(contact, "ram:URIID", party.email, schemeID="EM")
    if party.tax_id:
        registration = _el(element, "ram:SpecifiedTaxRegistration")
        _el(registration, "ram:ID", party.tax_id, schemeID="VA")
