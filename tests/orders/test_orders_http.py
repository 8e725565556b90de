"""Orders over real HTTP: listing, reading, and an operator confirming a wire transfer."""

from __future__ import annotations

import json

import httpx
import pytest

from botbill.kit.instants import MINUTE
from tests.conftest import Server
from tests.factories import auth, problem, run_botbill
from tests.wallet.accounts import (
    Tenant,
    add_funds,
    balance_of,
    entitlement,
    make_enterprise,
    money_state,
    new_app,
    operator_key,
    tenant,
)


@pytest.fixture
def acme(server: Server, http: httpx.Client) -> Tenant:
    who = tenant(server.engine)
    new_app(http, server.engine, who, plan="standard")
    return who


def wire(http: httpx.Client, who: Tenant, amount: int = 50_000) -> str:
    response = add_funds(http, key=who.key, method="wire", token=None, amount=amount)
    assert response.status_code == 201, response.text
    order_id: str = response.json()["id"]
    return order_id


def confirm(http: httpx.Client, key: str, order_id: str) -> httpx.Response:
    return http.post(f"/v1/orders/{order_id}/confirm-payment", headers=auth(key))


def test_an_operator_confirms_a_wire(server: Server, http: httpx.Client, acme: Tenant) -> None:
    order_id = wire(http, acme)
    server.clock.advance(90 * MINUTE)
    response = confirm(http, operator_key(server.engine), order_id)
    assert response.status_code == 200, response.text
    order = response.json()
    assert (order["payment_status"], order["paid_at"]) == ("paid", "2026-11-26T13:30:00Z")
    assert balance_of(http, key=acme.key) == 50_000
    assert entitlement(http, key=acme.key) == {"active": True}


def test_a_wire_settles_a_waiting_fee(server: Server, http: httpx.Client) -> None:
    who = tenant(server.engine)
    new_app(http, server.engine, who, plan="advanced")
    order_id = wire(http, who, amount=60_000)
    assert entitlement(http, key=who.key)["reason"] == "insufficient_funds"
    assert confirm(http, operator_key(server.engine), order_id).status_code == 200
    assert entitlement(http, key=who.key) == {"active": True}
    assert balance_of(http, key=who.key) == 60_000 - 49_900


def test_confirming_twice_or_a_card_order_is_409(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    ops = operator_key(server.engine)
    order_id = wire(http, acme)
    assert confirm(http, ops, order_id).status_code == 200
    card = add_funds(http, key=acme.key).json()["id"]
    before = money_state(server.engine)
    assert "not pending" in problem(confirm(http, ops, order_id), 409)["detail"]
    assert "not by wire" in problem(confirm(http, ops, card), 409)["detail"]
    problem(confirm(http, ops, "ord_nonesuch"), 404)
    assert money_state(server.engine) == before
    assert balance_of(http, key=acme.key) == 75_000


def test_only_operators_confirm(server: Server, http: httpx.Client, acme: Tenant) -> None:
    order_id = wire(http, acme)
    before = money_state(server.engine)
    problem(confirm(http, acme.key, order_id), 403)
    problem(http.post(f"/v1/orders/{order_id}/confirm-payment"), 401)
    problem(confirm(http, "bbop_forged", order_id), 401)
    assert money_state(server.engine) == before


def test_operator_keys_do_not_open_workspaces(server: Server, http: httpx.Client) -> None:
    problem(http.get("/v1/subscriptions", headers=auth(operator_key(server.engine))), 401)


def test_orders_list_newest_first_with_pages(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    ids = []
    for amount in (10_000, 20_000, 30_000):
        ids.append(add_funds(http, key=acme.key, amount=amount).json()["id"])
        server.clock.advance(MINUTE)
    first = http.get("/v1/orders?limit=2", headers=auth(acme.key)).json()
    second = http.get(
        "/v1/orders", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth(acme.key)
    ).json()
    assert [o["id"] for o in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
    only = http.get("/v1/orders?app_id=support-bot", headers=auth(acme.key)).json()
    assert len(only["items"]) == 3
    problem(http.get("/v1/orders?cursor=nonsense", headers=auth(acme.key)), 422)


def test_orders_are_private_to_a_workspace(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    them = tenant(server.engine, name="Them")
    new_app(http, server.engine, them, app_id="their-bot", plan="standard")
    theirs = add_funds(http, key=them.key, app_id="their-bot").json()["id"]
    problem(http.get(f"/v1/orders/{theirs}", headers=auth(acme.key)), 404)
    assert http.get("/v1/orders", headers=auth(acme.key)).json()["items"] == []
    problem(http.get("/v1/orders?app_id=their-bot", headers=auth(acme.key)), 404)


def test_enterprise_workspaces_have_no_orders(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    order_id = add_funds(http, key=acme.key).json()["id"]
    make_enterprise(server.engine, acme.workspace_id)
    problem(http.get("/v1/orders", headers=auth(acme.key)), 403)
    problem(http.get(f"/v1/orders/{order_id}", headers=auth(acme.key)), 403)


def test_operator_key_command(database_url: str, server: Server, http: httpx.Client) -> None:
    result = run_botbill("operator", "key", "create", "--json", database_url=database_url)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["api_key"].startswith("bbop_")
    assert printed["scopes"] == ["operator"]
    who = tenant(server.engine)
    new_app(http, server.engine, who, plan="standard")
    assert confirm(http, printed["api_key"], wire(http, who)).status_code == 200
