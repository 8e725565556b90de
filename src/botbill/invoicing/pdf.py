"""A document as an A4 Factur-X PDF: a page people read, carrying the EN 16931 XML that
accounting software reads (PDF/A-3, ``factur-x`` library, profile EN 16931).

The text is set in DejaVu Sans, embedded from ``invoicing/fonts`` (its licence is
there), so any European language and the common currency signs render.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import facturx
from fpdf import FPDF

from botbill.invoicing.cii import cii_xml
from botbill.invoicing.documents import Document, decimal_amount, percent
from botbill.invoicing.rules import DocumentKind, Party

FONTS = Path(__file__).with_name("fonts")
FONT = "DejaVu"
INK = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (206, 212, 218)
STAMP = (200, 30, 30)
SIGNS = {"EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥", "INR": "₹", "CNY": "¥"}
METHODS = {"card": "Card", "wire": "Bank transfer"}


def money(minor: int, currency: str) -> str:
    """``€1,234.50``, ``-₹99.00``, ``CHF 12.00``: for people (the XML has the figures)."""
    amount = decimal_amount(abs(minor), currency)
    sign = "-" if minor < 0 else ""
    text = f"{amount:,}"
    symbol = SIGNS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{currency} {text}"


def render_pdf(document: Document) -> bytes:
    """The Factur-X PDF: the page, with the document's CII XML embedded and checked
    against the Factur-X EN 16931 schema."""
    page = _page(document)
    pdf: bytes = facturx.generate_from_binary(
        page,
        cii_xml(document),
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        pdf_metadata=_metadata(document),
        lang="en",
    )
    return pdf


def _metadata(document: Document) -> dict[str, Any]:
    title = "Credit note" if document.kind is DocumentKind.CREDIT_NOTE else "Invoice"
    return {
        "author": document.seller.legal_name,
        "keywords": "Factur-X, EN 16931",
        "title": f"{title} {document.number}",
        "subject": f"{title} {document.number} to {document.buyer.legal_name}",
    }


class _Page(FPDF):
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FONT, size=7.5)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self._footer_text, align="C")

    _footer_text = ""


def _page(document: Document) -> bytes:
    pdf = _Page(format="A4", unit="mm")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(auto=True, margin=22)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_creation_date(document.issued_at)
    pdf.set_title(_metadata(document)["title"])
    pdf.set_author(document.seller.legal_name)
    pdf.set_lang("en")
    pdf._footer_text = (
        f"{document.seller.legal_name} · {document.number} · "
        "an electronic invoice: this PDF carries its EN 16931 XML (Factur-X)"
    )
    pdf.add_page()
    _heading(pdf, document)
    _parties(pdf, document)
    _lines(pdf, document)
    _totals(pdf, document)
    _payment(pdf, document)
    if document.void:
        _stamp(pdf)
    return bytes(pdf.output())


def _heading(pdf: FPDF, document: Document) -> None:
    credit = document.kind is DocumentKind.CREDIT_NOTE
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "B", 22)
    pdf.cell(0, 11, "Credit note" if credit else "Invoice", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9.5)
    facts = [
        ("Number", document.number),
        ("Issue date", document.issued_at.strftime("%Y-%m-%d")),
        ("Order", document.order_id),
        ("App", document.app_id),
    ]
    if document.preceding is not None:
        facts.append(("Credit note for" if credit else "Replaces", document.preceding))
    for label, value in facts:
        pdf.set_text_color(*MUTED)
        pdf.cell(32, 5.5, label)
        pdf.set_text_color(*INK)
        pdf.set_font(FONT, "B" if label == "Number" else "", 9.5)
        pdf.cell(0, 5.5, value, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=9.5)
    pdf.ln(6)


def _parties(pdf: FPDF, document: Document) -> None:
    top = pdf.get_y()
    width = (pdf.epw - 10) / 2
    bottoms = []
    for column, (label, party) in enumerate(
        (("From", document.seller), ("Bill to", document.buyer))
    ):
        pdf.set_xy(pdf.l_margin + column * (width + 10), top)
        _party(pdf, label, party, width)
        bottoms.append(pdf.get_y())
    pdf.set_xy(pdf.l_margin, max(bottoms) + 6)


def _party(pdf: FPDF, label: str, party: Party, width: float) -> None:
    left = pdf.get_x()
    pdf.set_text_color(*MUTED)
    pdf.set_font(FONT, size=8)
    pdf.cell(width, 5, label.upper(), new_x="LEFT", new_y="NEXT")
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "B", 10.5)
    pdf.multi_cell(width, 5.5, party.legal_name, new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, size=9.5)
    details = [*party.address_lines, party.country]
    if party.tax_id:
        details.append(f"VAT ID {party.tax_id}")
    if party.email:
        details.append(party.email)
    for text in details:
        pdf.set_x(left)
        pdf.multi_cell(width, 5, text, new_x="LEFT", new_y="NEXT")


def _lines(pdf: FPDF, document: Document) -> None:
    pdf.set_draw_color(*RULE)
    pdf.set_font(FONT, "B", 9)
    pdf.set_text_color(*MUTED)
    widths = (pdf.epw - 90, 20, 35, 35)
    headers = ("Description", "Quantity", "Unit price", "Amount")
    for width, header in zip(widths, headers, strict=True):
        pdf.cell(width, 7, header, border="B", align="L" if header == "Description" else "R")
    pdf.ln()
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=9.5)
    for line in document.lines:
        top = pdf.get_y()
        pdf.multi_cell(widths[0], 6, line.description, new_x="RIGHT", new_y="TOP")
        bottom = pdf.get_y() if pdf.get_y() > top else top
        pdf.set_xy(pdf.l_margin + widths[0], top)
        pdf.cell(widths[1], 6, str(line.quantity), align="R")
        pdf.cell(widths[2], 6, money(line.unit_price, document.currency), align="R")
        pdf.cell(widths[3], 6, money(line.amount, document.currency), align="R")
        pdf.set_y(max(bottom, top + 6) + 1)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
        pdf.ln(1)
    pdf.ln(3)


def _totals(pdf: FPDF, document: Document) -> None:
    totals = document.totals
    rate = f"{percent(totals.tax_rate)}%"
    rows = [
        ("Subtotal", money(totals.subtotal, document.currency), False),
        (
            f"Tax {rate} (VAT category {document.vat_category.value})",
            money(totals.tax, document.currency),
            False,
        ),
        (f"Total ({document.currency})", money(totals.total, document.currency), True),
    ]
    label_width, value_width = 70, 35
    for label, value, strong in rows:
        pdf.set_x(pdf.l_margin + pdf.epw - label_width - value_width)
        pdf.set_font(FONT, "B" if strong else "", 11 if strong else 9.5)
        border = "T" if strong else ""
        pdf.cell(label_width, 7, label, border=border, align="R")
        pdf.cell(value_width, 7, value, border=border, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)


def _payment(pdf: FPDF, document: Document) -> None:
    method = METHODS.get(document.payment_method, document.payment_method)
    pdf.set_font(FONT, size=9.5)
    pdf.set_text_color(*INK)
    pdf.multi_cell(
        0,
        5.5,
        f"Payment: {method}, {document.payment_status}. Amount due: {money(0, document.currency)}.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if document.kind is DocumentKind.CREDIT_NOTE:
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(
            0,
            5.5,
            f"This credit note cancels invoice {document.preceding} in full; "
            "a replacement invoice was issued for the same order.",
            new_x="LMARGIN",
            new_y="NEXT",
        )


def _stamp(pdf: FPDF) -> None:
    """The word VOID in outline, across the empty lower half: the figures stay legible."""
    pdf.set_draw_color(*STAMP)
    pdf.set_line_width(1.2)
    pdf.set_font(FONT, "B", 110)
    pdf.text_mode = "STROKE"
    x, y = pdf.w / 2, max(pdf.get_y() + 60, pdf.h * 0.6)
    with pdf.rotation(25, x, y):
        width = pdf.get_string_width("VOID")
        pdf.text(x - width / 2, y + 14, "VOID")
    pdf.text_mode = "FILL"
