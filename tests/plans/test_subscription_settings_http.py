"""Renewal and auto-reload settings, and cancelling, over real HTTP (SPEC §3.3, §3.5)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from botbill.auth.keys import Scope
from botbill.kit.instants import DAY
from tests.conftest import Server
from tests.factories import auth, error_locs, make_key, problem
from tests.plans.lifecycle import cancel, orders_of, settings
from tests.wallet.accounts import (
    Tenant,
    add_funds,
    balance_of,
    entitlement,
    funded_app,
    make_enterprise,
    money_state,
    new_app,
    subscription,
    tenant,
)

RELOAD = {"enabled": True, "threshold": 5_000, "amount": 20_000}


@pytest.fixture
def acme(server: Server) -> Tenant:
    return tenant(server.engine)


def test_renewal_off_and_on(server: Server, http: httpx.Client, acme: Tenant) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=20_000)
    response = settings(http, acme, renew=False)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == subscription(http, key=acme.key)  # the shape of GET …/subscription
    assert (body["renews"], body["plan"], body["status"]) == (False, "essential", "active")
    assert settings(http, acme, renew=True).json()["renews"] is True


def test_auto_reload_is_set_and_kept(server: Server, http: httpx.Client, acme: Tenant) -> None:
    funded_app(http, server.engine, acme, plan="standard", amount=10_000)  # a card is saved
    body = settings(http, acme, auto_reload=RELOAD).json()
    assert body["auto_reload"] == RELOAD
    assert subscription(http, key=acme.key)["auto_reload"] == RELOAD
    body = settings(http, acme, auto_reload={"enabled": False}).json()
    assert body["auto_reload"] == {**RELOAD, "enabled": False}  # the figures are kept
    body = settings(http, acme, auto_reload={"enabled": True, "amount": 10_000}).json()
    assert body["auto_reload"] == {"enabled": True, "threshold": 5_000, "amount": 10_000}
    both = settings(http, acme, renew=False, auto_reload={"enabled": True, "threshold": 0}).json()
    assert (both["renews"], both["auto_reload"]["threshold"]) == (True, 0)  # pay-as-you-go
    assert [kind for kind, *_ in orders_of(server.engine, acme)] == ["add_funds"]  # no order


def test_auto_reload_needs_a_saved_card(server: Server, http: httpx.Client, acme: Tenant) -> None:
    new_app(http, server.engine, acme, plan="standard")
    wire = add_funds(http, key=acme.key, method="wire", token=None, amount=10_000)
    assert wire.status_code == 201  # a wire saves no card
    before = money_state(server.engine)
    found = problem(settings(http, acme, auto_reload=RELOAD), 409)
    assert "saved card" in found["detail"]
    assert money_state(server.engine) == before
    # Turning it off, or storing figures while off, needs no card.
    body = settings(http, acme, auto_reload={**RELOAD, "enabled": False}).json()
    assert body["auto_reload"] == {**RELOAD, "enabled": False}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body"]),
        ({"renew": None}, ["body", "renew"]),
        ({"renew": "false"}, ["body", "renew"]),
        ({"renew": 0}, ["body", "renew"]),
        ({"renews": False}, ["body", "renews"]),
        ({"auto_reload": None}, ["body", "auto_reload"]),
        ({"auto_reload": True}, ["body", "auto_reload"]),
        (
            {"auto_reload": {"threshold": 5_000, "amount": 20_000}},
            ["body", "auto_reload", "enabled"],
        ),
        ({"auto_reload": {**RELOAD, "threshold": -1}}, ["body", "auto_reload", "threshold"]),
        ({"auto_reload": {**RELOAD, "threshold": "5000"}}, ["body", "auto_reload", "threshold"]),
        ({"auto_reload": {**RELOAD, "threshold": None}}, ["body", "auto_reload", "threshold"]),
        ({"auto_reload": {**RELOAD, "amount": 9_999}}, ["body", "auto_reload", "amount"]),
        ({"auto_reload": {**RELOAD, "amount": 2_000_001}}, ["body", "auto_reload", "amount"]),
        ({"auto_reload": {**RELOAD, "amount": 20_000.0}}, ["body", "auto_reload", "amount"]),
        ({"auto_reload": {**RELOAD, "amount": True}}, ["body", "auto_reload", "amount"]),
        ({"auto_reload": {**RELOAD, "every": "day"}}, ["body", "auto_reload", "every"]),
        (
            {"auto_reload": {"enabled": True, "amount": 20_000}},
            ["body", "auto_reload", "threshold"],
        ),
        ({"auto_reload": {"enabled": True}}, ["body", "auto_reload", "amount"]),
        (
            {"renew": False, "auto_reload": {**RELOAD, "amount": 1}},
            ["body", "auto_reload", "amount"],
        ),
    ],
)
def test_bad_settings_change_nothing(
    server: Server, http: httpx.Client, acme: Tenant, body: dict[str, Any], loc: list[str]
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=20_000)
    before = money_state(server.engine)
    found = problem(settings(http, acme, **body), 422)
    assert loc in error_locs(found)
    assert money_state(server.engine) == before
    assert subscription(http, key=acme.key)["renews"] is True


def test_a_body_that_is_not_json_is_refused(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=20_000)
    response = http.patch(
        "/v1/apps/support-bot/subscription",
        content=b"renew=false",
        headers={**auth(acme.key), "content-type": "application/json"},
    )
    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_read_key_may_not_change_settings(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=20_000)
    reader = make_key(server.engine, workspace_id=acme.workspace_id, scopes=[Scope.READ])
    before = money_state(server.engine)
    path = "/v1/apps/support-bot/subscription"
    problem(http.patch(path, json={"renew": False}, headers=auth(reader)), 403)
    problem(http.post(f"{path}/cancel", headers=auth(reader)), 403)
    problem(http.patch(path, json={"renew": False}), 401)
    assert money_state(server.engine) == before


def test_another_workspaces_app_is_404(server: Server, http: httpx.Client, acme: Tenant) -> None:
    them = tenant(server.engine, name="Them")
    funded_app(http, server.engine, them, app_id="their-bot", plan="essential", amount=20_000)
    before = money_state(server.engine)
    for app_id in ("their-bot", "no-such-bot"):
        problem(settings(http, acme, app_id, renew=False), 404)
        problem(cancel(http, acme, app_id), 404)
    assert money_state(server.engine) == before


def test_enterprise_subscriptions_are_a_contract(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    make_enterprise(server.engine, acme.workspace_id)
    new_app(http, server.engine, acme)
    before = money_state(server.engine)
    problem(settings(http, acme, renew=False), 403)
    problem(settings(http, acme, auto_reload=RELOAD), 403)
    problem(cancel(http, acme), 403)
    assert money_state(server.engine) == before
    assert entitlement(http, key=acme.key) == {"active": True}


# --- cancelling ---------------------------------------------------------------------------


def test_cancel_refuses_the_app_and_refunds_nothing(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=12_000)  # 2,100 left
    server.clock.advance(10 * DAY)
    orders_before = orders_of(server.engine, acme)
    response = cancel(http, acme)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == subscription(http, key=acme.key)
    assert (body["status"], body["renews"], body["plan"]) == ("cancelled", False, "essential")
    assert body["balance"]["amount"] == 2_100  # the balance stays, the fee is not refunded
    assert body["notices"] == []  # a low balance is no news for a cancelled app
    assert orders_of(server.engine, acme) == orders_before
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "cancelled"}
    rows = http.get("/v1/subscriptions", headers=auth(acme.key)).json()["items"]
    assert [(r["app_id"], r["status"]) for r in rows] == [("support-bot", "cancelled")]


def test_a_cancelled_subscription_refuses_changes_but_a_plan_change(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=20_000)
    assert cancel(http, acme).status_code == 200
    before = money_state(server.engine)
    assert "already cancelled" in problem(cancel(http, acme), 409)["detail"]
    assert "subscription/change" in problem(settings(http, acme, renew=True), 409)["detail"]
    problem(settings(http, acme, auto_reload=RELOAD), 409)
    assert money_state(server.engine) == before


def test_a_cancelled_app_comes_back_with_a_plan_change(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=30_000)  # 20,100 left
    server.clock.advance(10 * DAY)  # a third of the 30-day period used
    assert cancel(http, acme).status_code == 200
    response = http.post(
        "/v1/apps/support-bot/subscription/change",
        json={"plan": "essential"},  # the same plan: it applies at once
        headers=auth(acme.key),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["change"], body["plan"]) == ("active", "upgrade", "essential")
    assert body["period_start"] == "2026-12-06T12:00:00Z"
    order = body["order"]
    assert (order["kind"], order["amount"], order["credit"]) == ("plan_change", 3_300, 6_600)
    assert balance_of(http, key=acme.key) == 20_100 - 3_300
    assert entitlement(http, key=acme.key) == {"active": True}


def test_a_cancelled_app_may_come_back_on_a_cheaper_plan_at_once(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="advanced", amount=60_000)
    assert cancel(http, acme).status_code == 200
    response = http.post(
        "/v1/apps/support-bot/subscription/change",
        json={"plan": "standard"},
        headers=auth(acme.key),
    )
    assert response.status_code == 200, response.text  # not a scheduled downgrade
    assert (response.json()["plan"], response.json()["status"]) == ("standard", "active")


def test_cancel_drops_a_scheduled_downgrade(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="advanced", amount=60_000)
    change = http.post(
        "/v1/apps/support-bot/subscription/change",
        json={"plan": "essential"},
        headers=auth(acme.key),
    )
    assert change.status_code == 202
    body = cancel(http, acme).json()
    assert (body["scheduled_change"], body["notices"]) == (None, [])


def test_cancel_fails_a_fee_waiting_for_funds(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    new_app(http, server.engine, acme, plan="essential")  # the first fee waits for funds
    assert cancel(http, acme).status_code == 200
    assert orders_of(server.engine, acme) == [("subscription", 9_900, "balance", "failed")]
    assert add_funds(http, key=acme.key, amount=10_000).status_code == 201
    assert balance_of(http, key=acme.key) == 10_000  # the cancelled fee is not paid
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "cancelled"}


def test_a_trial_and_an_expired_plan_can_be_cancelled(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    new_app(http, server.engine, acme, app_id="trial-bot")
    assert cancel(http, acme, "trial-bot").json()["status"] == "cancelled"
    funded_app(http, server.engine, acme, plan="essential", amount=10_000)  # 100 left
    assert settings(http, acme, renew=False).status_code == 200
    server.clock.advance(31 * DAY)
    assert subscription(http, key=acme.key)["status"] == "expired"
    assert cancel(http, acme).json()["status"] == "cancelled"
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "cancelled"}


def test_the_endpoints_are_documented(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    detail = {"$ref": "#/components/schemas/SubscriptionDetail"}
    patch = spec["paths"]["/v1/apps/{app_id}/subscription"]["patch"]
    cancelled = spec["paths"]["/v1/apps/{app_id}/subscription/cancel"]["post"]
    for operation in (patch, cancelled):
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == detail
        assert {"403", "409", "422"} <= set(operation["responses"])
        assert "description" in operation
    settings_schema = spec["components"]["schemas"]["AutoReloadSettings"]
    assert settings_schema["required"] == ["enabled"]
    assert settings_schema["properties"]["amount"]["type"] == "integer"  # never null
