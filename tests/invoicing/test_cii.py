"""The CII XML of documents as plain values: schema-valid, and the EN 16931 rules that
bind (totals, VAT breakdown, countries, credit notes) hold for any figures."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from botbill.invoicing.cii import cii_xml
from botbill.invoicing.documents import Document, decimal_amount, percent
from botbill.invoicing.rules import DocumentKind, Line, Party, negated, totals_of
from tests.invoicing.en16931 import check

SELLER = Party("Société Générale de Bots SA", ("29 bd Haussmann", "75009 Paris"), "FR",
               "FR12345678901", "factures@bots.example")  # fmt: skip
BUYER = Party("Zürich Bäckerei GmbH", ("Bahnhofstrasse 1", "Hof 2", "8001 Zürich", "Kreis 1"),
              "CH", None, None)  # fmt: skip


def document(
    lines: tuple[Line, ...],
    rate: str,
    *,
    currency: str = "EUR",
    kind: DocumentKind = DocumentKind.INVOICE,
) -> Document:
    totals = totals_of(lines, Decimal(rate))
    preceding = None
    if kind is DocumentKind.CREDIT_NOTE:
        lines, totals = negated(lines, totals)
        preceding = "INV-2026-000001"
    return Document(
        number="CN-2026-000001" if preceding else "INV-2026-000001",
        kind=kind,
        issued_at=datetime(2026, 11, 26, 12, tzinfo=UTC),
        seller=SELLER,
        buyer=BUYER,
        lines=lines,
        totals=totals,
        currency=currency,
        payment_method="card",
        payment_status="paid",
        order_id="ord_x",
        app_id="support-bot",
        void=False,
        preceding=preceding,
    )


def test_an_invoice_at_a_standard_rate() -> None:
    figures = check(cii_xml(document((Line("Funds", 1, 25_000),), "0.081")))
    assert (figures.type_code, figures.category, figures.rate) == ("380", "S", Decimal("8.1"))
    assert (figures.line_total, figures.tax_total) == (Decimal("250.00"), Decimal("20.25"))
    assert figures.grand_total == Decimal("270.25")
    assert (figures.seller_country, figures.buyer_country) == ("FR", "CH")


def test_an_invoice_at_zero_is_category_z() -> None:
    figures = check(cii_xml(document((Line("Funds", 1, 10_000),), "0", currency="JPY")))
    assert (figures.category, figures.rate, figures.tax_total) == ("Z", Decimal(0), Decimal(0))
    assert figures.grand_total == Decimal("10000")  # yen have no minor unit


def test_a_credit_note_is_381_with_positive_amounts() -> None:
    figures = check(
        cii_xml(document((Line("Funds", 1, 25_000),), "0.2", kind=DocumentKind.CREDIT_NOTE))
    )
    assert (figures.type_code, figures.preceding) == ("381", "INV-2026-000001")
    assert (figures.line_total, figures.tax_total, figures.grand_total) == (
        Decimal("250.00"),
        Decimal("50.00"),
        Decimal("300.00"),
    )


def test_amounts_and_percentages_are_written_exactly() -> None:
    assert str(decimal_amount(2_025, "USD")) == "20.25"
    assert str(decimal_amount(5, "BHD")) == "0.005"
    assert str(decimal_amount(7, "JPY")) == "7"
    assert [str(percent(Decimal(r))) for r in ("0.18", "0.2", "0", "0.0825")] == [
        "18",
        "20",
        "0",
        "8.25",
    ]


@settings(max_examples=40, deadline=None)
@given(
    lines=st.lists(
        st.builds(
            Line,
            st.text("abc xyzäé€", min_size=1, max_size=30),
            st.integers(1, 9),
            st.integers(0, 10**7),
        ),
        min_size=1,
        max_size=4,
    ),
    rate=st.decimals(min_value=0, max_value=Decimal("0.9999"), places=4),
    credit=st.booleans(),
)
def test_every_document_keeps_the_rules(lines: list[Line], rate: Decimal, credit: bool) -> None:
    kind = DocumentKind.CREDIT_NOTE if credit else DocumentKind.INVOICE
    value = document(tuple(lines), str(rate), kind=kind)
    figures = check(cii_xml(value))
    assert figures.grand_total == decimal_amount(abs(value.totals.total), "EUR")
