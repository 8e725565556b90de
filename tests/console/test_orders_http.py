"""The Orders & Invoices page and the invoice PDF downloaded through the console."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import httpx
from pypdf import PdfReader

from tests.console.conftest import People
from tests.console.kit import ConsoleClient
from tests.factories import auth, make_app, make_workspace

Clients = Callable[[], ConsoleClient]


def paid_order(
    people: People, key: str | None = None, app_id: str = "support-bot"
) -> dict[str, Any]:
    key = key or people.key
    with httpx.Client(base_url=people.server.url) as http:
        make_app(http, key=key, app_id=app_id, plan="standard")
        response = http.post(
            f"/v1/apps/{app_id}/funds",
            json={"amount": 25_000, "payment_method": "card", "token": "tok_ok"},
            headers=auth(key),
        )
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()
        invoice = http.get(f"/v1/invoices/{order['invoice_id']}", headers=auth(key)).json()
    order["number"] = invoice["number"]
    return order


def test_the_page_lists_orders_with_their_invoice(people: People, console_client: Clients) -> None:
    order = paid_order(people)
    client = console_client()
    client.sign_in(people.shared)
    page = client.get(people.url("orders"))
    assert page.status_code == 200
    for text in (
        "Order ID",
        "Payment method",
        order["id"],
        "Add funds",
        ">paid<",
        "USD 250.00",
        "Card",
        order["number"],
    ):
        assert text in page.text, text
    href = f"/console/w/{people.workspace_id}/orders/invoices/{order['invoice_id']}.pdf"
    assert f'href="{href}"' in page.text


def test_the_invoice_pdf_downloads_through_the_console(
    people: People, console_client: Clients
) -> None:
    order = paid_order(people)
    client = console_client()
    client.sign_in(people.shared)
    response = client.get(people.url(f"orders/invoices/{order['invoice_id']}.pdf"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="{order["number"]}.pdf"' in response.headers["content-disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert order["number"] in text
    assert "250.00" in text


def test_another_workspace_s_invoice_is_not_found_and_signed_out_is_sent_to_sign_in(
    people: People, console_client: Clients
) -> None:
    _, other_key = make_workspace(people.server.engine, name="Globex")
    theirs = paid_order(people, key=other_key, app_id="globex-bot")
    client = console_client()
    client.sign_in(people.admin)
    path = people.url(f"orders/invoices/{theirs['invoice_id']}.pdf")
    refused = client.get(path)
    assert refused.status_code == 404
    assert not refused.content.startswith(b"%PDF")
    signed_out = console_client().get(path)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/console/sign-in")


def test_no_orders_yet(people: People, console_client: Clients) -> None:
    client = console_client()
    client.sign_in(people.owner)
    assert "No orders yet." in client.get(people.url("orders")).text
