"""Plans and subscriptions over real HTTP: the catalog, the Plan list, one app's details."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from botbill.kit.instants import DAY, to_micros
from tests.conftest import Server
from tests.factories import T0, add_member, auth, problem
from tests.wallet.accounts import (
    Tenant,
    add_funds,
    entitlement,
    make_enterprise,
    new_app,
    subscription,
    tenant,
    time_passes,
)


@pytest.fixture
def acme(server: Server) -> Tenant:
    return tenant(server.engine)


def notice_types(body: dict[str, Any]) -> list[str]:
    return [notice["type"] for notice in body["notices"]]


def test_the_catalog(http: httpx.Client, acme: Tenant) -> None:
    response = http.get("/v1/plans", headers=auth(acme.key))
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    plans = {plan["code"]: plan for plan in body["items"]}
    assert list(plans) == ["trial", "standard", "essential", "advanced", "enterprise"]
    assert plans["essential"] == {
        "code": "essential",
        "name": "Essential",
        "period": "month",
        "period_days": None,
        "fee": 9_900,
        "currency": "USD",
        "included": {"billing_sessions": 1_000, "voice_sessions": 0},
        "prices": {"usage": 15, "alert": 15, "voice": 30, "seat_day": 200},
        "contract": False,
    }
    assert plans["trial"]["period"] == "trial"
    assert plans["trial"]["period_days"] == 14
    assert plans["enterprise"]["fee"] is None
    assert plans["enterprise"]["contract"] is True


def test_the_catalog_needs_a_key(http: httpx.Client) -> None:
    problem(http.get("/v1/plans"), 401)


def test_a_new_app_starts_its_trial(server: Server, http: httpx.Client, acme: Tenant) -> None:
    new_app(http, server.engine, acme, app_id="support-bot")
    detail = subscription(http, key=acme.key)
    assert detail == {
        "app_id": "support-bot",
        "app_name": "Support Bot",
        "owner_email": None,
        "plan": "trial",
        "status": "active",
        "balance": {"amount": 0, "currency": "USD"},
        "period_start": "2026-11-26T12:00:00Z",
        "period_end": "2026-12-10T12:00:00Z",
        "notices": [],
        "included": {"billing_sessions": 2_000, "voice_sessions": 2_000},
        "used": {
            "billing_sessions": 0,
            "usage_sessions": 0,
            "alert_sessions": 0,
            "voice_sessions": 0,
        },
        "scheduled_change": None,
        "auto_reload": {"enabled": False, "threshold": None, "amount": None},
        "renews": False,
    }
    assert entitlement(http, key=acme.key) == {"active": True}


def test_a_trial_expires_after_fourteen_days(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    new_app(http, server.engine, acme)
    time_passes(server, 8 * DAY)
    detail = subscription(http, key=acme.key)
    assert (detail["status"], notice_types(detail)) == ("expiring", ["plan_expiring"])
    server.clock.set(to_micros(T0 + timedelta(days=14)) - 1)
    assert entitlement(http, key=acme.key) == {"active": True}
    time_passes(server, 1)
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "trial_expired"}
    detail = subscription(http, key=acme.key)
    assert (detail["status"], notice_types(detail)) == ("expired", ["plan_expired"])


def test_periods_are_shown_in_the_workspace_timezone(server: Server, http: httpx.Client) -> None:
    kolkata = tenant(server.engine, timezone="Asia/Kolkata")
    new_app(http, server.engine, kolkata, plan="standard")
    detail = subscription(http, key=kolkata.key)
    assert detail["period_start"] == "2026-11-26T17:30:00+05:30"
    assert detail["period_end"] == "2026-12-26T17:30:00+05:30"


def test_pay_as_you_go_needs_funds(server: Server, http: httpx.Client, acme: Tenant) -> None:
    new_app(http, server.engine, acme, plan="standard")
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "insufficient_funds"}
    detail = subscription(http, key=acme.key)
    assert (detail["status"], notice_types(detail)) == ("inactive", ["insufficient_funds"])
    assert add_funds(http, key=acme.key, amount=10_000).status_code == 201
    assert entitlement(http, key=acme.key) == {"active": True}
    detail = subscription(http, key=acme.key)
    assert detail["balance"] == {"amount": 10_000, "currency": "USD"}
    assert (detail["status"], notice_types(detail)) == ("active", [])


def test_a_fee_plan_waits_for_its_first_fee(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    new_app(http, server.engine, acme, plan="essential")
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "insufficient_funds"}
    orders = http.get("/v1/orders", headers=auth(acme.key)).json()["items"]
    assert [(o["kind"], o["amount"], o["payment_method"], o["payment_status"]) for o in orders] == [
        ("subscription", 9_900, "balance", "pending")
    ]
    assert add_funds(http, key=acme.key, amount=12_000).status_code == 201
    assert entitlement(http, key=acme.key) == {"active": True}
    detail = subscription(http, key=acme.key)
    assert detail["balance"]["amount"] == 12_000 - 9_900
    assert notice_types(detail) == ["low_balance"]
    statuses = {
        o["kind"]: o["payment_status"]
        for o in http.get("/v1/orders", headers=auth(acme.key)).json()["items"]
    }
    assert statuses == {"subscription": "paid", "add_funds": "paid"}


def test_the_plan_list(server: Server, http: httpx.Client, acme: Tenant) -> None:
    them = tenant(server.engine, name="Them")
    new_app(http, server.engine, them, app_id="their-bot")
    add_member(
        server.engine, workspace_id=acme.workspace_id, email="dev@acme.example", role="developer"
    )
    for app_id, plan in [("a-bot", "standard"), ("b-bot", "trial"), ("c-bot", "advanced")]:
        new_app(http, server.engine, acme, app_id=app_id, plan=plan, owner_email="dev@acme.example")
    assert add_funds(http, key=acme.key, app_id="a-bot", amount=30_000).status_code == 201
    first = http.get("/v1/subscriptions?limit=2", headers=auth(acme.key)).json()
    second = http.get(
        f"/v1/subscriptions?limit=2&cursor={first['next_cursor']}", headers=auth(acme.key)
    ).json()
    assert second["next_cursor"] is None
    rows = first["items"] + second["items"]
    assert [
        (r["app_id"], r["owner_email"], r["plan"], r["status"], r["balance"]["amount"])
        for r in rows
    ] == [
        ("a-bot", "dev@acme.example", "standard", "active", 30_000),
        ("b-bot", "dev@acme.example", "trial", "active", 0),
        ("c-bot", "dev@acme.example", "advanced", "inactive", 0),
    ]
    assert rows[0]["period_end"] == "2026-12-26T12:00:00Z"
    assert set(rows[0]) == {
        "app_id",
        "app_name",
        "owner_email",
        "plan",
        "status",
        "balance",
        "period_start",
        "period_end",
        "notices",
    }


def test_enterprise_apps_are_on_the_contract(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    make_enterprise(server.engine, acme.workspace_id)
    new_app(http, server.engine, acme)
    detail = subscription(http, key=acme.key)
    assert (detail["plan"], detail["status"], detail["renews"]) == ("enterprise", "active", True)
    time_passes(server, 400 * DAY)
    assert entitlement(http, key=acme.key) == {"active": True}
    assert subscription(http, key=acme.key)["period_start"] == "2027-12-26T12:00:00Z"


@pytest.mark.parametrize(
    "path",
    ["/v1/apps/{app}/subscription", "/v1/apps/{app}/entitlement"],
)
def test_another_workspaces_app_is_404(
    server: Server, http: httpx.Client, acme: Tenant, path: str
) -> None:
    them = tenant(server.engine, name="Them")
    new_app(http, server.engine, them, app_id="their-bot")
    problem(http.get(path.format(app="their-bot"), headers=auth(acme.key)), 404)
    problem(http.get(path.format(app="no-such-bot"), headers=auth(acme.key)), 404)
    rows = http.get("/v1/subscriptions", headers=auth(acme.key)).json()["items"]
    assert rows == []


def test_an_app_older_than_subscriptions_gets_one_from_the_lifecycle_job(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    from botbill.kit.db import unit_of_work
    from botbill.workspaces.models import App

    with unit_of_work(server.engine, write=True) as session:  # as the migration found it
        session.add(
            App(
                workspace_id=acme.workspace_id,
                id="old-bot",
                name="Old Bot",
                plan="standard",
                idle_timeout_minutes=15,
                created_at=T0 - timedelta(days=90),
            )
        )
    time_passes(server, DAY)
    rows = http.get("/v1/subscriptions", headers=auth(acme.key)).json()["items"]
    assert [(r["app_id"], r["plan"], r["period_start"]) for r in rows] == [
        ("old-bot", "standard", "2026-11-27T12:00:00Z")
    ]
