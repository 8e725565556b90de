"""Billing profiles over real HTTP: the workspace's (admins) and the seller's (operators),
their defaults, validation that changes nothing, and the audit log."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from botbill.auth.keys import Scope
from botbill.invoicing.models import BillingProfile, SellerProfile
from botbill.kit.db import unit_of_work
from tests.conftest import Server
from tests.factories import auth, error_locs, make_key, problem, run_botbill
from tests.wallet.accounts import Tenant, make_enterprise, operator_key, tenant

PROFILE: dict[str, Any] = {
    "legal_name": "Zürich Bäckerei GmbH",
    "address_lines": ["Bahnhofstrasse 1", "8001 Zürich"],
    "country": "CH",
    "tax_id": "CHE-123.456.789 MWST",
    "billing_email": "billing@baeckerei.example",
    "tax_rate": "0.081",
}
SELLER: dict[str, Any] = {
    "legal_name": "Société Générale de Bots SA",
    "address_lines": ["29 boulevard Haussmann", "75009 Paris"],
    "country": "FR",
    "tax_id": "FR12345678901",
    "email": "factures@bots.example",
}


def profile_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with unit_of_work(engine, write=False) as session:
        buyers = [
            (row.workspace_id, row.legal_name, row.country, row.tax_rate, row.updated_at)
            for row in session.scalars(select(BillingProfile))
        ]
        sellers = [(row.legal_name, row.country) for row in session.scalars(select(SellerProfile))]
    return [*buyers, *sellers]


def audit(http: httpx.Client, key: str, action: str) -> list[dict[str, Any]]:
    response = http.get("/v1/audit-log", params={"action": action}, headers=auth(key))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.fixture
def acme(server: Server) -> Tenant:
    return tenant(server.engine, name="Acme Robotics")


def test_until_set_the_profile_is_the_workspace_name(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    response = http.get("/v1/billing-profile", headers=auth(acme.key))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "legal_name": "Acme Robotics",
        "address_lines": [],
        "country": "GB",  # the seller's, until the admin names theirs
        "tax_id": None,
        "billing_email": None,
        "tax_rate": "0",
        "updated_at": None,
    }


def test_an_admin_sets_the_profile(server: Server, http: httpx.Client, acme: Tenant) -> None:
    response = http.put("/v1/billing-profile", json=PROFILE, headers=auth(acme.key))
    assert response.status_code == 200, response.text
    assert response.json() == {**PROFILE, "updated_at": "2026-11-26T12:00:00Z"}
    read = make_key(server.engine, workspace_id=acme.workspace_id, scopes=[Scope.READ])
    assert http.get("/v1/billing-profile", headers=auth(read)).json() == response.json()
    (entry,) = audit(http, acme.key, "billing_profile.set")
    assert entry["target"] == f"workspace:{acme.workspace_id}"
    assert entry["before"] is None
    assert entry["after"]["legal_name"] == "Zürich Bäckerei GmbH"
    assert entry["actor"]["kind"] == "admin"

    again = {**PROFILE, "tax_rate": "0.20", "country": "de", "tax_id": None}
    response = http.put("/v1/billing-profile", json=again, headers=auth(acme.key))
    assert response.status_code == 200, response.text
    assert (response.json()["tax_rate"], response.json()["country"]) == ("0.2", "DE")
    assert response.json()["tax_id"] is None
    latest = audit(http, acme.key, "billing_profile.set")[0]
    assert latest["before"]["tax_rate"] == "0.081"
    assert latest["after"]["tax_rate"] == "0.2"


@pytest.mark.parametrize(
    ("change", "loc", "says"),
    [
        ({"country": "XX"}, ["body", "country"], "ISO 3166-1 alpha-2"),
        ({"country": "DEU"}, ["body", "country"], "ISO 3166-1 alpha-2"),
        ({"tax_rate": "1"}, ["body", "tax_rate"], "below 1"),
        ({"tax_rate": "-0.1"}, ["body", "tax_rate"], "decimal number"),
        ({"tax_rate": 0.18}, ["body", "tax_rate"], "string"),
        ({"tax_rate": "18%"}, ["body", "tax_rate"], "decimal number"),
        ({"billing_email": "not-an-address"}, ["body", "billing_email"], "email"),
        ({"legal_name": "  "}, ["body", "legal_name"], "at least 1"),
        ({"legal_name": "A\x00B"}, ["body", "legal_name"], "control characters"),
        ({"address_lines": ["1"] * 6}, ["body", "address_lines"], "at most 5"),
        ({"surprise": True}, ["body", "surprise"], "Extra inputs"),
    ],
)
def test_a_bad_profile_is_422_and_changes_nothing(
    server: Server,
    http: httpx.Client,
    acme: Tenant,
    change: dict[str, Any],
    loc: list[str],
    says: str,
) -> None:
    assert http.put("/v1/billing-profile", json=PROFILE, headers=auth(acme.key)).is_success
    before = profile_rows(server.engine)
    response = http.put("/v1/billing-profile", json={**PROFILE, **change}, headers=auth(acme.key))
    body = problem(response, 422)
    assert loc in error_locs(body)
    assert says in response.text
    assert profile_rows(server.engine) == before
    assert len(audit(http, acme.key, "billing_profile.set")) == 1


def test_missing_fields_are_named(server: Server, http: httpx.Client, acme: Tenant) -> None:
    body = problem(http.put("/v1/billing-profile", json={}, headers=auth(acme.key)), 422)
    assert ["body", "legal_name"] in error_locs(body)
    assert ["body", "country"] in error_locs(body)
    assert profile_rows(server.engine) == []


def test_who_may_read_and_set(server: Server, http: httpx.Client, acme: Tenant) -> None:
    read = make_key(server.engine, workspace_id=acme.workspace_id, scopes=[Scope.READ])
    problem(http.put("/v1/billing-profile", json=PROFILE, headers=auth(read)), 403)
    problem(http.put("/v1/billing-profile", json=PROFILE), 401)
    problem(http.get("/v1/billing-profile"), 401)
    ops = operator_key(server.engine)
    problem(http.get("/v1/billing-profile", headers=auth(ops)), 401)
    assert profile_rows(server.engine) == []


def test_enterprise_workspaces_have_no_billing_profile(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    make_enterprise(server.engine, acme.workspace_id)
    problem(http.get("/v1/billing-profile", headers=auth(acme.key)), 403)
    problem(http.put("/v1/billing-profile", json=PROFILE, headers=auth(acme.key)), 403)
    assert profile_rows(server.engine) == []


# --- the seller ---------------------------------------------------------------------------


def test_the_seller_defaults_to_the_settings(server: Server, http: httpx.Client) -> None:
    response = http.get("/v1/operator/seller-profile", headers=auth(operator_key(server.engine)))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "legal_name": "Example Platform Ltd",
        "address_lines": ["1 Example Street", "London EC1A 1BB"],
        "country": "GB",
        "tax_id": "GB000000000",
        "email": "billing@example.com",
        "updated_at": None,
    }


def test_an_operator_sets_the_seller(server: Server, http: httpx.Client, acme: Tenant) -> None:
    ops = operator_key(server.engine)
    response = http.put("/v1/operator/seller-profile", json=SELLER, headers=auth(ops))
    assert response.status_code == 200, response.text
    assert response.json() == {**SELLER, "updated_at": "2026-11-26T12:00:00Z"}
    assert http.get("/v1/operator/seller-profile", headers=auth(ops)).json() == response.json()
    # a workspace that never set its profile is now in the seller's new country
    assert http.get("/v1/billing-profile", headers=auth(acme.key)).json()["country"] == "FR"


def test_a_bad_seller_profile_is_422(server: Server, http: httpx.Client, acme: Tenant) -> None:
    ops = operator_key(server.engine)
    changes: list[tuple[dict[str, Any], list[str]]] = [
        ({"country": "ZZ"}, ["body", "country"]),
        ({"email": "nobody"}, ["body", "email"]),
        ({"tax_id": None}, ["body", "tax_id"]),
    ]
    for change, loc in changes:
        body = {**SELLER, **change}
        response = http.put("/v1/operator/seller-profile", json=body, headers=auth(ops))
        assert loc in error_locs(problem(response, 422))
    problem(http.put("/v1/operator/seller-profile", json=SELLER, headers=auth(acme.key)), 403)
    problem(http.get("/v1/operator/seller-profile", headers=auth(acme.key)), 403)
    problem(http.get("/v1/operator/seller-profile"), 401)
    assert profile_rows(server.engine) == []


def test_the_seller_from_the_command_line(server: Server, database_url: str) -> None:
    shown = run_botbill("operator", "seller-profile", "show", database_url=database_url)
    assert shown.returncode == 0, shown.stderr
    assert '"legal_name":"Example Platform Ltd"' in shown.stdout
    refused = run_botbill(
        "operator", "seller-profile", "set", "--legal-name", "X", "--country", "XX",
        "--tax-id", "T1", "--email", "ops@x.example", database_url=database_url,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "country" in refused.stderr
    assert profile_rows(server.engine) == []
    done = run_botbill(
        "operator", "seller-profile", "set", "--legal-name", SELLER["legal_name"],
        "--country", "FR", "--tax-id", "FR12345678901", "--email", "factures@bots.example",
        "--address-line", "29 boulevard Haussmann", "--address-line", "75009 Paris",
        database_url=database_url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert profile_rows(server.engine) == [("Société Générale de Bots SA", "FR")]
