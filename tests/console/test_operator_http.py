"""The operator's pages over HTTP: only operators, invoice voids with a reason, the plan
catalog and account types, each through the services of the operator API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.console.conftest import People
from tests.console.kit import ConsoleClient, csrf_of, sqlite_only
from tests.factories import auth, make_app

pytestmark = sqlite_only


def api(people: People, method: str, path: str, **kwargs: Any) -> Any:
    with httpx.Client(base_url=people.server.url) as http:
        response = http.request(method, path, headers=auth(people.key), **kwargs)
    assert response.status_code < 300, response.text
    return response.json()


def operator_client(people: People, console_client: Callable[[], ConsoleClient]) -> ConsoleClient:
    client = console_client()
    assert client.sign_in(people.operator).status_code == 303
    page = client.get("/console/operator")
    assert page.status_code == 200
    client.csrf_token = csrf_of(page.text)
    return client


def test_only_operators_open_the_operator_pages(
    people: People, console_client: Callable[[], ConsoleClient]
) -> None:
    client = console_client()
    client.sign_in(people.owner)
    assert client.get("/console/operator").status_code == 403
    response = client.post("/console/operator/plans/standard", {"usage_price": "1"})
    assert response.status_code == 403
    plans = api(people, "GET", "/v1/plans")["items"]
    assert next(p for p in plans if p["code"] == "standard")["prices"]["usage"] == 20


def test_an_invoice_is_voided_with_a_reason(
    people: People, console_client: Callable[[], ConsoleClient]
) -> None:
    with httpx.Client(base_url=people.server.url) as http:
        make_app(http, key=people.key, app_id="support-bot", plan="standard")
    order = api(
        people,
        "POST",
        "/v1/apps/support-bot/funds",
        json={"amount": 25_000, "payment_method": "card", "token": "tok_ok"},
    )
    client = operator_client(people, console_client)
    path = f"/console/operator/invoices/{order['invoice_id']}/void"
    refused = client.post(path, {"reason": "  "})
    assert refused.status_code == 422
    assert "reason" in refused.text
    assert api(people, "GET", f"/v1/invoices/{order['invoice_id']}")["status"] == "issued"
    done = client.post(path, {"reason": "Wrong buyer address"})
    assert done.status_code == 303
    voided = api(people, "GET", f"/v1/invoices/{order['invoice_id']}")
    assert voided["status"] == "void"
    assert voided["replaced_by"] is not None
    again = client.post(path, {"reason": "Twice"})
    assert again.status_code == 409


def test_the_catalog_and_account_types(
    people: People, console_client: Callable[[], ConsoleClient]
) -> None:
    client = operator_client(people, console_client)
    bad = client.post("/console/operator/plans/standard", {"usage_price": "-3"})
    assert bad.status_code == 422
    assert "whole number" in bad.text
    assert client.post("/console/operator/plans/standard", {"usage_price": "25"}).status_code == 303
    plans = api(people, "GET", "/v1/plans")["items"]
    assert next(p for p in plans if p["code"] == "standard")["prices"]["usage"] == 25

    path = f"/console/operator/workspaces/{people.workspace_id}/account-type"
    assert client.post(path, {"account_type": "enterprise"}).status_code == 303
    page = client.get("/console/operator")
    assert 'value="enterprise" selected' in page.text
    same = client.post(path, {"account_type": "enterprise"})
    assert same.status_code == 409
    assert "already enterprise" in same.text
