"""Invoice documents over real HTTP: the Factur-X PDF read back with pypdf (its number,
both legal names, the total, the embedded XML valid against the schema) and the XML,
whose totals are the JSON's."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from botbill.invoicing.documents import decimal_amount
from tests.conftest import Server
from tests.factories import auth, problem
from tests.invoicing.en16931 import Figures, check
from tests.invoicing.factories import invoice
from tests.wallet.accounts import Tenant, add_funds, make_enterprise, new_app, operator_key, tenant

BUYER: dict[str, Any] = {
    "legal_name": "Zürich Bäckerei GmbH",
    "address_lines": ["Bahnhofstrasse 1", "8001 Zürich"],
    "country": "CH",
    "tax_id": "CHE-123.456.789 MWST",
    "billing_email": "billing@baeckerei.example",
    "tax_rate": "0.081",
}
SELLER: dict[str, Any] = {
    "legal_name": "Société Générale de Bots SA",
    "address_lines": ["29 boulevard Haussmann", "75009 Paris"],
    "country": "FR",
    "tax_id": "FR12345678901",
    "email": "factures@bots.example",
}


def pdf_of(http: httpx.Client, who: Tenant, invoice_id: str) -> tuple[str, PdfReader]:
    response = http.get(f"/v1/invoices/{invoice_id}/pdf", headers=auth(who.key))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return text, reader


def xml_of(http: httpx.Client, who: Tenant, invoice_id: str) -> bytes:
    response = http.get(f"/v1/invoices/{invoice_id}/xml", headers=auth(who.key))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/xml"
    return response.content


def same_totals(figures: Figures, body: dict[str, Any]) -> None:
    """The XML's figures are the JSON's (positive on a credit note)."""
    currency = body["currency"]
    assert figures.number == body["number"]
    assert figures.currency == currency
    assert figures.line_total == decimal_amount(abs(body["subtotal"]), currency)
    assert figures.tax_total == decimal_amount(abs(body["tax"]), currency)
    assert figures.grand_total == decimal_amount(abs(body["total"]), currency)
    assert figures.rate == Decimal(body["tax_rate"]) * 100
    assert figures.category == body["vat_category"]
    assert (figures.seller_country, figures.buyer_country) == (
        body["seller"]["country"],
        body["buyer"]["country"],
    )


@pytest.fixture
def acme(server: Server, http: httpx.Client) -> Tenant:
    who = tenant(server.engine, name="Acme")
    assert http.put("/v1/billing-profile", json=BUYER, headers=auth(who.key)).is_success
    ops = operator_key(server.engine)
    assert http.put("/v1/operator/seller-profile", json=SELLER, headers=auth(ops)).is_success
    new_app(http, server.engine, who, plan="standard")
    return who


def test_the_pdf_is_a_factur_x_invoice(server: Server, http: httpx.Client, acme: Tenant) -> None:
    body = invoice(http, acme, add_funds(http, key=acme.key, amount=25_000).json()["invoice_id"])
    response = http.get(f"/v1/invoices/{body['invoice_id']}/pdf", headers=auth(acme.key))
    assert response.headers["content-disposition"] == 'attachment; filename="INV-2026-000001.pdf"'
    text, reader = pdf_of(http, acme, body["invoice_id"])
    for expected in (
        "Invoice",
        "INV-2026-000001",
        "Zürich Bäckerei GmbH",
        "Société Générale de Bots SA",
        "$270.25",  # the total, tax included
        "Tax 8.1% (VAT category S)",
        body["order_id"],
        "support-bot",
        "2026-11-26",
    ):
        assert expected in text
    assert len(reader.pages) == 1
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.5)  # A4
    (embedded,) = reader.attachments["factur-x.xml"]
    assert embedded == xml_of(http, acme, body["invoice_id"])
    same_totals(check(embedded), body)
    metadata: Any = reader.root_object["/Metadata"]
    xmp = metadata.get_object().get_data()
    assert b"pdfaid:part" in xmp  # PDF/A-3
    assert b"EN 16931" in xmp  # the Factur-X profile


def test_a_void_a_credit_note_and_a_replacement(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    original = add_funds(http, key=acme.key, amount=25_000).json()["invoice_id"]
    ops = operator_key(server.engine)
    credit = http.post(
        f"/v1/invoices/{original}/void", json={"reason": "typo"}, headers=auth(ops)
    ).json()
    voided = invoice(http, acme, original)

    text, _ = pdf_of(http, acme, original)
    assert "VOID" in text
    same_totals(check(xml_of(http, acme, original)), voided)

    text, reader = pdf_of(http, acme, credit["invoice_id"])
    assert "Credit note" in text
    assert "CN-2026-000001" in text
    assert "INV-2026-000001" in text  # the invoice it cancels
    assert "-$270.25" in text
    figures = check(reader.attachments["factur-x.xml"][0])
    assert (figures.type_code, figures.preceding) == ("381", "INV-2026-000001")
    same_totals(figures, credit)

    replacement = invoice(http, acme, voided["replaced_by"])
    text, reader = pdf_of(http, acme, replacement["invoice_id"])
    assert "Replaces" in text
    assert "VOID" not in text
    figures = check(reader.attachments["factur-x.xml"][0])
    assert (figures.type_code, figures.preceding) == ("380", "INV-2026-000001")
    same_totals(figures, replacement)


def test_common_currency_signs_and_names_render(server: Server, http: httpx.Client) -> None:
    who = tenant(server.engine, name="Mumbai ₹ Bots", currency="INR")
    new_app(http, server.engine, who, plan="standard")
    body = invoice(http, who, add_funds(http, key=who.key, amount=100_000).json()["invoice_id"])
    text, reader = pdf_of(http, who, body["invoice_id"])
    assert "Mumbai ₹ Bots" in text
    assert "₹1,000.00" in text
    same_totals(check(reader.attachments["factur-x.xml"][0]), body)
    assert body["vat_category"] == "Z"


def test_documents_are_private_and_refused_to_enterprise(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    them = tenant(server.engine, name="Them")
    new_app(http, server.engine, them, app_id="their-bot", plan="standard")
    theirs = add_funds(http, key=them.key, app_id="their-bot").json()["invoice_id"]
    for suffix in ("pdf", "xml"):
        problem(http.get(f"/v1/invoices/{theirs}/{suffix}", headers=auth(acme.key)), 404)
        problem(http.get(f"/v1/invoices/inv_nonesuch/{suffix}", headers=auth(acme.key)), 404)
        problem(http.get(f"/v1/invoices/{theirs}/{suffix}"), 401)
    make_enterprise(server.engine, them.workspace_id)
    problem(http.get(f"/v1/invoices/{theirs}/pdf", headers=auth(them.key)), 403)
