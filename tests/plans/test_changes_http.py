"""Plan changes over real HTTP (SPEC §3.5): upgrades at once, downgrades at period end."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from botbill.kit.instants import DAY
from tests.conftest import Server
from tests.factories import auth, error_locs, problem
from tests.wallet.accounts import (
    Tenant,
    add_funds,
    balance_of,
    entitlement,
    funded_app,
    make_enterprise,
    money_state,
    new_app,
    operator_key,
    subscription,
    tenant,
    time_passes,
)


@pytest.fixture
def acme(server: Server) -> Tenant:
    return tenant(server.engine)


def change(
    http: httpx.Client, who: Tenant, app_id: str = "support-bot", **body: Any
) -> httpx.Response:
    return http.post(
        f"/v1/apps/{app_id}/subscription/change",
        json=body,
        headers={**auth(who.key), **body.pop("headers", {})},
    )


def orders(http: httpx.Client, who: Tenant) -> list[tuple[str, str | None, int, int, str, str]]:
    items = http.get("/v1/orders", headers=auth(who.key)).json()["items"]
    return [
        (o["kind"], o["plan"], o["amount"], o["credit"], o["payment_method"], o["payment_status"])
        for o in reversed(items)
    ]


def test_pay_as_you_go_to_a_fee_plan_from_the_balance(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="standard", amount=20_000)
    time_passes(server, 10 * DAY)
    response = change(http, acme, plan="essential")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["change"], body["plan"], body["status"]) == ("upgrade", "essential", "active")
    assert body["period_start"] == "2026-12-06T12:00:00Z"  # a new period starts
    assert body["period_end"] == "2027-01-06T12:00:00Z"
    assert body["included"] == {"billing_sessions": 1_000, "voice_sessions": 0}
    assert body["balance"]["amount"] == 20_000 - 9_900
    order = body["order"]
    assert (order["kind"], order["amount"], order["payment_method"], order["payment_status"]) == (
        "plan_change",
        9_900,
        "balance",
        "paid",
    )
    assert http.get("/v1/apps/support-bot", headers=auth(acme.key)).json()["plan"] == "essential"


def test_the_unused_fee_is_credited_against_the_new_order(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=10_000)  # fee paid at once
    time_passes(server, 15 * DAY)  # of a 30-day period (26 Nov - 26 Dec)
    response = change(http, acme, plan="advanced", payment_method="card", token="tok_ok")
    assert response.status_code == 200, response.text
    order = response.json()["order"]
    assert (order["amount"], order["credit"], order["payment_method"]) == (
        49_900 - 4_950,
        4_950,
        "card",
    )
    assert balance_of(http, key=acme.key) == 100  # 10,000 - 9,900: the card paid the rest
    assert orders(http, acme)[-1] == ("plan_change", "advanced", 44_950, 4_950, "card", "paid")
    assert sorted(orders(http, acme)[:-1]) == [  # both at the app's creation instant
        ("add_funds", None, 10_000, 0, "card", "paid"),
        ("subscription", "essential", 9_900, 0, "balance", "paid"),
    ]


def test_leaving_the_trial_needs_no_order_for_pay_as_you_go(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    new_app(http, server.engine, acme)
    time_passes(server, 20 * DAY)  # the trial has expired
    assert entitlement(http, key=acme.key)["reason"] == "trial_expired"
    body = change(http, acme, plan="standard").json()
    assert (body["plan"], body["order"], body["period_start"]) == (
        "standard",
        None,
        "2026-12-16T12:00:00Z",
    )
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "insufficient_funds"}


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"plan": "advanced"}, "balance"),
        ({"plan": "advanced", "payment_method": "card", "token": "tok_declined"}, "declined"),
    ],
)
def test_402_when_nothing_pays_and_nothing_changes(
    server: Server, http: httpx.Client, acme: Tenant, body: dict[str, Any], why: str
) -> None:
    funded_app(http, server.engine, acme, plan="standard", amount=10_000)
    before = money_state(server.engine)
    assert why in problem(change(http, acme, **body), 402)["detail"]
    assert money_state(server.engine) == before
    assert subscription(http, key=acme.key)["plan"] == "standard"


def test_a_downgrade_waits_for_the_period_end(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="advanced", amount=70_000)
    response = change(http, acme, plan="essential")
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["change"], body["plan"], body["order"]) == ("downgrade", "advanced", None)
    assert body["scheduled_change"] == {"plan": "essential", "at": "2026-12-26T12:00:00Z"}
    assert [n["type"] for n in body["notices"]] == ["downgrade_scheduled"]
    time_passes(server, 30 * DAY)
    detail = subscription(http, key=acme.key)
    assert (detail["plan"], detail["scheduled_change"], detail["notices"]) == (
        "essential",
        None,
        [],
    )
    assert detail["period_start"] == "2026-12-26T12:00:00Z"
    assert detail["balance"]["amount"] == 70_000 - 49_900 - 9_900
    assert orders(http, acme)[-1] == ("plan_change", "essential", 9_900, 0, "balance", "paid")


def test_a_scheduled_downgrade_can_be_withdrawn(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=30_000)
    assert change(http, acme, plan="standard").status_code == 202
    path = "/v1/apps/support-bot/subscription/scheduled-change"
    response = http.delete(path, headers=auth(acme.key))
    assert response.status_code == 200
    assert response.json()["scheduled_change"] is None
    problem(http.delete(path, headers=auth(acme.key)), 404)
    time_passes(server, 30 * DAY)
    detail = subscription(http, key=acme.key)
    assert detail["plan"] == "essential"  # renewed as it was
    assert detail["balance"]["amount"] == 30_000 - 9_900 - 9_900


def test_an_upgrade_replaces_a_scheduled_downgrade(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=100_000)
    assert change(http, acme, plan="standard").status_code == 202
    body = change(http, acme, plan="advanced").json()
    assert (body["plan"], body["scheduled_change"]) == ("advanced", None)


def test_renewal_from_the_balance_then_the_saved_card_then_expiry(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=20_000)  # card saved
    time_passes(server, 30 * DAY)  # renewed from the balance: 20,000 - 2 x 9,900 = 200
    assert balance_of(http, key=acme.key) == 200
    time_passes(server, 31 * DAY)  # the balance does not cover it: the saved card pays
    detail = subscription(http, key=acme.key)
    assert (detail["status"], detail["period_start"]) == ("active", "2027-01-26T12:00:00Z")
    assert orders(http, acme)[-1] == ("renewal", "essential", 9_900, 0, "card", "paid")


def test_a_failed_renewal_expires_the_plan(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    new_app(http, server.engine, acme, plan="standard")
    wire = add_funds(http, key=acme.key, method="wire", token=None, amount=10_000).json()
    ops = operator_key(server.engine)
    http.post(f"/v1/orders/{wire['id']}/confirm-payment", headers=auth(ops))
    assert change(http, acme, plan="essential").status_code == 200  # from the balance: 100 left
    time_passes(server, 31 * DAY)  # no card was ever saved
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "plan_expired"}
    detail = subscription(http, key=acme.key)
    assert detail["status"] == "expired"
    assert [n["type"] for n in detail["notices"]] == [
        "plan_expired",
        "renewal_failed",
        "low_balance",
    ]
    assert orders(http, acme)[-1][-1] == "failed"
    # Paying in does not renew by itself; changing (or re-choosing) the plan does.
    assert add_funds(http, key=acme.key, amount=10_000).status_code == 201
    assert entitlement(http, key=acme.key)["reason"] == "plan_expired"
    assert change(http, acme, plan="essential").status_code == 200
    assert entitlement(http, key=acme.key) == {"active": True}


@pytest.mark.parametrize(
    ("body", "status", "loc"),
    [
        ({"plan": "gold"}, 422, ["body", "plan"]),
        ({"plan": ""}, 422, ["body", "plan"]),
        ({}, 422, ["body", "plan"]),
        ({"plan": "trial"}, 422, ["body", "plan"]),
        ({"plan": "standard"}, 409, None),
        ({"plan": "enterprise"}, 403, None),
        ({"plan": "advanced", "payment_method": "wire"}, 422, ["body", "payment_method"]),
        ({"plan": "advanced", "payment_method": "card"}, 422, ["body", "token"]),
        ({"plan": "advanced", "token": "tok_ok"}, 422, ["body", "token"]),
        ({"plan": "advanced", "payment_method": "card", "token": "tok_?"}, 422, ["body", "token"]),
        ({"plan": "advanced", "when": "now"}, 422, ["body", "when"]),
    ],
)
def test_bad_changes_change_nothing(
    server: Server,
    http: httpx.Client,
    acme: Tenant,
    body: dict[str, Any],
    status: int,
    loc: list[str] | None,
) -> None:
    funded_app(http, server.engine, acme, plan="standard", amount=100_000)
    before = money_state(server.engine)
    found = problem(change(http, acme, **body), status)
    if loc is not None:
        assert loc in error_locs(found)
    assert money_state(server.engine) == before


def test_enterprise_plans_are_an_operator_matter(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    make_enterprise(server.engine, acme.workspace_id)
    new_app(http, server.engine, acme)
    before = money_state(server.engine)
    problem(change(http, acme, plan="advanced"), 403)
    assert money_state(server.engine) == before


def test_another_workspaces_app_is_404(server: Server, http: httpx.Client, acme: Tenant) -> None:
    them = tenant(server.engine, name="Them")
    funded_app(http, server.engine, them, app_id="their-bot", plan="essential", amount=50_000)
    before = money_state(server.engine)
    problem(change(http, acme, app_id="their-bot", plan="advanced"), 404)
    path = "/v1/apps/their-bot/subscription/scheduled-change"
    problem(http.delete(path, headers=auth(acme.key)), 404)
    assert money_state(server.engine) == before


def test_a_repeated_change_is_replayed(server: Server, http: httpx.Client, acme: Tenant) -> None:
    funded_app(http, server.engine, acme, plan="standard", amount=100_000)
    headers = {"Idempotency-Key": "go-advanced"}
    first = change(http, acme, plan="advanced", headers=headers)
    second = change(http, acme, plan="advanced", headers=headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert balance_of(http, key=acme.key) == 100_000 - 49_900
