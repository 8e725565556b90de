"""POST /v1/apps/{app_id}/funds over real HTTP: cards, wires, limits, Idempotency-Key."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from botbill.app import create_app
from botbill.kit.clock import FrozenClock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import to_micros
from botbill.ledger.models import LedgerEntry
from botbill.settings import Settings
from tests.conftest import Server
from tests.factories import T0, auth, error_locs, problem, serving
from tests.wallet.accounts import (
    Tenant,
    add_funds,
    balance_of,
    entitlement,
    make_enterprise,
    money_state,
    new_app,
    tenant,
)


@pytest.fixture
def acme(server: Server, http: httpx.Client) -> Tenant:
    who = tenant(server.engine)
    new_app(http, server.engine, who, plan="standard")
    return who


def ledger(server: Server) -> list[tuple[str, int, str | None]]:
    with unit_of_work(server.engine, write=False) as session:
        rows = session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))
        return [(row.kind, row.amount, row.reference) for row in rows]


def test_a_card_adds_funds_at_once(server: Server, http: httpx.Client, acme: Tenant) -> None:
    response = add_funds(http, key=acme.key, amount=25_000)
    assert response.status_code == 201
    order = response.json()
    assert order["id"].startswith("ord_")
    assert order["invoice_id"].startswith("inv_")
    assert {k: v for k, v in order.items() if k not in ("id", "invoice_id")} == {
        "app_id": "support-bot",
        "kind": "add_funds",
        "plan": None,
        "amount": 25_000,
        "credit": 0,
        "tax_rate": "0",
        "tax": 0,
        "total": 25_000,
        "currency": "USD",
        "payment_method": "card",
        "payment_status": "paid",
        "billing_date": "2026-11-26T12:00:00Z",
        "paid_at": "2026-11-26T12:00:00Z",
        "failure_reason": None,
    }
    assert ledger(server) == [("funds", 25_000, order["id"])]
    assert balance_of(http, key=acme.key) == 25_000
    assert http.get(f"/v1/orders/{order['id']}", headers=auth(acme.key)).json() == order


def test_a_declined_card_changes_nothing(server: Server, http: httpx.Client, acme: Tenant) -> None:
    before = money_state(server.engine)
    body = problem(add_funds(http, key=acme.key, token="tok_declined"), 402)
    assert "declined" in body["detail"]
    assert money_state(server.engine) == before


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"amount": 9_999, "payment_method": "card", "token": "tok_ok"}, ["body", "amount"]),
        ({"amount": 2_000_001, "payment_method": "card", "token": "tok_ok"}, ["body", "amount"]),
        ({"amount": -10_000, "payment_method": "card", "token": "tok_ok"}, ["body", "amount"]),
        ({"amount": 10_000.0, "payment_method": "card", "token": "tok_ok"}, ["body", "amount"]),
        ({"amount": 10_000.5, "payment_method": "card", "token": "tok_ok"}, ["body", "amount"]),
        ({"amount": "10000", "payment_method": "card", "token": "tok_ok"}, ["body", "amount"]),
        ({"amount": True, "payment_method": "card", "token": "tok_ok"}, ["body", "amount"]),
        ({"amount": None, "payment_method": "card", "token": "tok_ok"}, ["body", "amount"]),
        ({"payment_method": "card", "token": "tok_ok"}, ["body", "amount"]),
        ({"amount": 10_000, "payment_method": "cash"}, ["body", "payment_method"]),
        ({"amount": 10_000, "payment_method": "balance"}, ["body", "payment_method"]),
        ({"amount": 10_000}, ["body", "payment_method"]),
        ({"amount": 10_000, "payment_method": "card"}, ["body", "token"]),
        ({"amount": 10_000, "payment_method": "card", "token": ""}, ["body", "token"]),
        ({"amount": 10_000, "payment_method": "card", "token": "tok_x"}, ["body", "token"]),
        ({"amount": 10_000, "payment_method": "wire", "token": "tok_ok"}, ["body", "token"]),
        ({"amount": 10_000, "payment_method": "wire", "memo": "x"}, ["body", "memo"]),
    ],
)
def test_bad_input_is_422_and_changes_nothing(
    server: Server, http: httpx.Client, acme: Tenant, body: dict[str, Any], loc: list[str]
) -> None:
    before = money_state(server.engine)
    response = http.post("/v1/apps/support-bot/funds", json=body, headers=auth(acme.key))
    assert loc in error_locs(problem(response, 422))
    assert money_state(server.engine) == before


def test_the_limits_are_inclusive(server: Server, http: httpx.Client, acme: Tenant) -> None:
    assert add_funds(http, key=acme.key, amount=10_000).status_code == 201
    assert add_funds(http, key=acme.key, amount=2_000_000).status_code == 201
    assert balance_of(http, key=acme.key) == 2_010_000


def test_the_limits_are_settings(server: Server, database_url: str) -> None:
    settings = Settings(
        environment="test",
        database_url=database_url,
        migrate_on_start=False,
        jobs_enabled=False,
        funds_min_amount=500,
        funds_max_amount=1_000,
    )
    app = create_app(settings, clock=FrozenClock(to_micros(T0)))
    with serving(app) as url, httpx.Client(base_url=url) as http:
        who = tenant(server.engine)
        new_app(http, server.engine, who, plan="standard")
        assert add_funds(http, key=who.key, amount=500).status_code == 201
        body = problem(add_funds(http, key=who.key, amount=1_001), 422)
        assert "500 to 1,000" in body["detail"]


def test_a_wire_waits_for_an_operator(server: Server, http: httpx.Client, acme: Tenant) -> None:
    response = add_funds(http, key=acme.key, method="wire", token=None, amount=50_000)
    assert response.status_code == 201
    order = response.json()
    assert (order["payment_method"], order["payment_status"], order["paid_at"]) == (
        "wire",
        "pending",
        None,
    )
    assert balance_of(http, key=acme.key) == 0
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "insufficient_funds"}


def test_a_repeat_with_the_same_key_moves_no_money(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    headers = {"Idempotency-Key": "add-25k-2026-11-26"}
    first = add_funds(http, key=acme.key, headers=headers)
    second = add_funds(http, key=acme.key, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert balance_of(http, key=acme.key) == 25_000
    assert len(ledger(server)) == 1
    # The same key on a different request is refused, and changes nothing.
    before = money_state(server.engine)
    problem(add_funds(http, key=acme.key, amount=30_000, headers=headers), 409)
    assert money_state(server.engine) == before
    # Another key is another order.
    assert add_funds(http, key=acme.key, headers={"Idempotency-Key": "other"}).status_code == 201
    assert balance_of(http, key=acme.key) == 50_000


def test_keys_belong_to_a_workspace(server: Server, http: httpx.Client, acme: Tenant) -> None:
    them = tenant(server.engine, name="Them")
    new_app(http, server.engine, them, plan="standard")
    headers = {"Idempotency-Key": "same"}
    first = add_funds(http, key=acme.key, headers=headers).json()
    second = add_funds(http, key=them.key, headers=headers).json()
    assert first["id"] != second["id"]


def test_a_refused_request_does_not_use_up_its_key(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    headers = {"Idempotency-Key": "retry-me"}
    problem(add_funds(http, key=acme.key, token="tok_declined", headers=headers), 402)
    assert add_funds(http, key=acme.key, headers=headers).status_code == 201


@pytest.mark.parametrize("key", [b"", b"x" * 256, b"with space", "é".encode()])
def test_a_malformed_idempotency_key_is_422(
    server: Server, http: httpx.Client, acme: Tenant, key: bytes
) -> None:
    before = money_state(server.engine)
    response = http.post(
        "/v1/apps/support-bot/funds",
        json={"amount": 10_000, "payment_method": "card", "token": "tok_ok"},
        headers=[(b"Authorization", f"Bearer {acme.key}".encode()), (b"Idempotency-Key", key)],
    )
    assert ["header", "Idempotency-Key"] in error_locs(problem(response, 422))
    assert money_state(server.engine) == before


def test_another_workspaces_app_is_404(server: Server, http: httpx.Client, acme: Tenant) -> None:
    them = tenant(server.engine, name="Them")
    new_app(http, server.engine, them, app_id="their-bot", plan="standard")
    before = money_state(server.engine)
    problem(add_funds(http, key=acme.key, app_id="their-bot"), 404)
    problem(add_funds(http, key=acme.key, app_id="no-such-bot"), 404)
    assert money_state(server.engine) == before


def test_enterprise_workspaces_have_no_funds(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    make_enterprise(server.engine, acme.workspace_id)
    before = money_state(server.engine)
    problem(add_funds(http, key=acme.key), 403)
    assert money_state(server.engine) == before


def test_a_read_key_may_not_add_funds(server: Server, http: httpx.Client, acme: Tenant) -> None:
    from botbill.auth.keys import Scope
    from tests.factories import make_key

    reader = make_key(server.engine, workspace_id=acme.workspace_id, scopes=[Scope.READ])
    before = money_state(server.engine)
    problem(add_funds(http, key=reader), 403)
    problem(add_funds(http, key="bb_nonsense"), 401)
    assert money_state(server.engine) == before
