"""Operators move a workspace to or from enterprise, and its apps with it (SPEC §3.5)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.audit.factories import log
from tests.conftest import Server
from tests.factories import auth, error_locs, problem, run_botbill
from tests.wallet.accounts import (
    Tenant,
    add_funds,
    entitlement,
    funded_app,
    money_state,
    new_app,
    operator_key,
    subscription,
    tenant,
)


@pytest.fixture
def acme(server: Server, http: httpx.Client) -> Tenant:
    who = tenant(server.engine)
    new_app(http, server.engine, who, app_id="free-bot", plan="standard")  # no funds at all
    funded_app(http, server.engine, who, app_id="paid-bot", plan="essential", amount=20_000)
    new_app(http, server.engine, who, app_id="gone-bot", plan="standard")
    cancel = http.post("/v1/apps/gone-bot/subscription/cancel", headers=auth(who.key))
    assert cancel.status_code == 200
    return who


def move(http: httpx.Client, who: Tenant, key: str, account_type: Any) -> httpx.Response:
    return http.put(
        f"/v1/workspaces/{who.workspace_id}/account-type",
        json={"account_type": account_type},
        headers=auth(key),
    )


def test_to_enterprise_and_back(server: Server, http: httpx.Client, acme: Tenant) -> None:
    assert entitlement(http, key=acme.key, app_id="free-bot")["reason"] == "insufficient_funds"
    ops = operator_key(server.engine)

    response = move(http, acme, ops, "enterprise")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "workspace_id": acme.workspace_id,
        "account_type": "enterprise",
        "apps_moved": ["free-bot", "paid-bot"],
        "apps_kept": ["gone-bot"],
    }
    for app_id in ("free-bot", "paid-bot"):
        assert entitlement(http, key=acme.key, app_id=app_id) == {"active": True}
        detail = subscription(http, key=acme.key, app_id=app_id)
        assert (detail["plan"], detail["status"]) == ("enterprise", "active")
    gone = subscription(http, key=acme.key, app_id="gone-bot")
    assert (gone["plan"], gone["status"]) == ("standard", "cancelled")
    problem(http.get("/v1/orders", headers=auth(acme.key)), 403)  # enterprise: no orders
    problem(add_funds(http, key=acme.key, app_id="free-bot"), 403)

    [entry] = log(http, acme.key, action="workspace.account_type_changed")
    assert entry["actor"]["kind"] == "operator"
    assert entry["target"] == f"workspace:{acme.workspace_id}"
    assert entry["before"] == {"account_type": "self-serve"}
    assert entry["after"]["account_type"] == "enterprise"

    response = move(http, acme, ops, "self-serve")
    assert response.status_code == 200, response.text
    assert response.json()["apps_moved"] == ["free-bot", "paid-bot"]
    detail = subscription(http, key=acme.key, app_id="paid-bot")
    assert detail["plan"] == "standard"  # pay-as-you-go when the contract ends
    assert detail["balance"]["amount"] == 20_000 - 9_900  # kept through both moves
    assert entitlement(http, key=acme.key, app_id="free-bot")["reason"] == "insufficient_funds"
    assert add_funds(http, key=acme.key, app_id="free-bot").status_code == 201
    assert entitlement(http, key=acme.key, app_id="free-bot") == {"active": True}


def test_refusals_change_nothing(server: Server, http: httpx.Client, acme: Tenant) -> None:
    ops = operator_key(server.engine)
    before = money_state(server.engine)

    body = problem(move(http, acme, ops, "platinum"), 422)
    assert error_locs(body) == [["body", "account_type"]]
    problem(move(http, acme, ops, None), 422)
    assert "already" in problem(move(http, acme, ops, "self-serve"), 409)["detail"]
    unknown = http.put(
        "/v1/workspaces/ws_nope/account-type",
        json={"account_type": "enterprise"},
        headers=auth(ops),
    )
    problem(unknown, 404)
    problem(move(http, acme, acme.key, "enterprise"), 403)  # a workspace admin may not
    problem(http.put(f"/v1/workspaces/{acme.workspace_id}/account-type", json={}), 401)

    assert money_state(server.engine) == before
    assert subscription(http, key=acme.key, app_id="free-bot")["plan"] == "standard"
    assert log(http, acme.key, action="workspace.account_type_changed") == []


def test_the_cli_moves_a_workspace(
    database_url: str, server: Server, http: httpx.Client, acme: Tenant
) -> None:
    moved = run_botbill(
        "operator",
        "workspace",
        "account-type",
        acme.workspace_id,
        "enterprise",
        database_url=database_url,
    )
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout)["apps_moved"] == ["free-bot", "paid-bot"]
    assert subscription(http, key=acme.key, app_id="free-bot")["plan"] == "enterprise"
    [entry] = log(http, acme.key, action="workspace.account_type_changed")
    assert entry["actor"]["kind"] == "cli"

    again = run_botbill(
        "operator",
        "workspace",
        "account-type",
        acme.workspace_id,
        "enterprise",
        database_url=database_url,
    )
    assert again.returncode == 2
    assert "already enterprise" in again.stderr
