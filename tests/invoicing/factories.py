"""Keyword-only factories for the invoicing tests: a buyer's profile and invoices as a
client reads them."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import auth
from tests.wallet.accounts import Tenant

BUYER: dict[str, Any] = {
    "legal_name": "Zürich Bäckerei GmbH",
    "address_lines": ["Bahnhofstrasse 1", "8001 Zürich"],
    "country": "CH",
    "tax_id": "CHE-123.456.789 MWST",
    "billing_email": "billing@baeckerei.example",
    "tax_rate": "0.081",
}


def invoice(http: httpx.Client, who: Tenant, invoice_id: str) -> dict[str, Any]:
    response = http.get(f"/v1/invoices/{invoice_id}", headers=auth(who.key))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def invoices(http: httpx.Client, who: Tenant, **params: Any) -> list[dict[str, Any]]:
    response = http.get("/v1/invoices", params=params, headers=auth(who.key))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
