"""Money and plan actions in the audit log: funds added, plan changes and their withdrawal."""

from __future__ import annotations

import httpx
import pytest

from tests.audit.factories import key_id, log
from tests.conftest import Server
from tests.factories import auth, problem
from tests.wallet.accounts import Tenant, add_funds, new_app, tenant


@pytest.fixture
def acme(server: Server, http: httpx.Client) -> Tenant:
    who = tenant(server.engine)
    new_app(http, server.engine, who, plan="standard")
    return who


def test_funds_added_once_per_order(server: Server, http: httpx.Client, acme: Tenant) -> None:
    headers = {"Idempotency-Key": "k1"}
    order = add_funds(http, key=acme.key, amount=25_000, headers=headers).json()
    assert add_funds(http, key=acme.key, amount=25_000, headers=headers).status_code == 201
    entries = log(http, acme.key, action="funds.added")
    assert len(entries) == 1  # the replay moved no money and recorded nothing
    [entry] = entries
    assert entry["target"] == "app:support-bot"
    assert entry["actor"] == {"kind": "admin", "id": key_id(server, acme)}
    assert entry["before"] is None
    assert entry["after"]["id"] == order["id"]
    assert entry["after"]["amount"] == 25_000


def test_a_declined_card_records_nothing(server: Server, http: httpx.Client, acme: Tenant) -> None:
    problem(add_funds(http, key=acme.key, token="tok_declined"), 402)
    assert log(http, acme.key, action="funds.added") == []


def test_plan_changes_and_their_withdrawal(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    assert add_funds(http, key=acme.key, amount=200_000).status_code == 201
    up = http.post(
        "/v1/apps/support-bot/subscription/change",
        json={"plan": "advanced"},
        headers=auth(acme.key),
    )
    assert up.status_code == 200, up.text
    down = http.post(
        "/v1/apps/support-bot/subscription/change",
        json={"plan": "essential"},
        headers=auth(acme.key),
    )
    assert down.status_code == 202, down.text
    withdrawn = http.delete(
        "/v1/apps/support-bot/subscription/scheduled-change", headers=auth(acme.key)
    )
    assert withdrawn.status_code == 200

    [withdrawal, downgrade, upgrade] = log(http, acme.key, target="app:support-bot")[:3]
    assert upgrade["action"] == "subscription.plan_changed"
    assert upgrade["before"]["plan"] == "standard"
    assert upgrade["after"]["plan"] == "advanced"
    assert upgrade["after"]["order_id"] == up.json()["order"]["id"]
    assert downgrade["action"] == "subscription.plan_changed"
    assert downgrade["before"] == {"scheduled_change": None}  # the plan changes at period end
    assert downgrade["after"] == {"scheduled_change": down.json()["scheduled_change"]}
    assert withdrawal["action"] == "subscription.change_withdrawn"
    assert withdrawal["before"] == {"scheduled_change": down.json()["scheduled_change"]}
    assert withdrawal["after"] == {"scheduled_change": None}


def test_settings_and_cancel(server: Server, http: httpx.Client, acme: Tenant) -> None:
    response = http.patch(
        "/v1/apps/support-bot/subscription", json={"renew": False}, headers=auth(acme.key)
    )
    assert response.status_code == 200, response.text
    cancelled = http.post("/v1/apps/support-bot/subscription/cancel", headers=auth(acme.key))
    assert cancelled.status_code == 200
    [cancel, settings] = log(http, acme.key, target="app:support-bot")[:2]
    assert settings["action"] == "subscription.settings_changed"
    assert cancel["action"] == "subscription.cancelled"
    assert cancel["before"]["status"] == "inactive"  # pay-as-you-go with nothing paid in
    assert cancel["after"]["status"] == "cancelled"
    problem(http.post("/v1/apps/support-bot/subscription/cancel", headers=auth(acme.key)), 409)
    assert len(log(http, acme.key, action="subscription.cancelled")) == 1
