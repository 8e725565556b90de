"""Invoices over real HTTP (SPEC §4): issued in the transaction that marks an order paid
by card or wire, none for the balance or a failure, copies of both profiles that later
changes leave alone, one platform-wide series per year, lists and reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from botbill.auth.keys import Scope
from botbill.invoicing.models import Invoice
from botbill.kit.db import unit_of_work
from botbill.kit.instants import MINUTE, to_micros
from tests.conftest import Server
from tests.factories import T0, auth, make_key, problem
from tests.invoicing.factories import BUYER, invoice, invoices
from tests.plans.lifecycle import card_now_declines, reload_on, run, spend
from tests.wallet.accounts import (
    Tenant,
    add_funds,
    funded_app,
    make_enterprise,
    new_app,
    operator_key,
    tenant,
)

PERIOD_END = to_micros(T0 + timedelta(days=30))
DEFAULT_SELLER: dict[str, Any] = {
    "legal_name": "Example Platform Ltd",
    "address_lines": ["1 Example Street", "London EC1A 1BB"],
    "country": "GB",
    "tax_id": "GB000000000",
    "email": "billing@example.com",
}


def orders(http: httpx.Client, who: Tenant) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = http.get("/v1/orders", headers=auth(who.key)).json()["items"]
    return items


def all_numbers(server: Server) -> list[str]:
    with unit_of_work(server.engine, write=False) as session:
        return sorted(session.scalars(select(Invoice.number)))


@pytest.fixture
def acme(server: Server, http: httpx.Client) -> Tenant:
    who = tenant(server.engine, name="Acme")
    assert http.put("/v1/billing-profile", json=BUYER, headers=auth(who.key)).is_success
    new_app(http, server.engine, who, plan="standard")
    return who


def test_a_card_payment_issues_its_invoice(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    order = add_funds(http, key=acme.key, amount=25_000).json()
    body = invoice(http, acme, order["invoice_id"])
    assert body == {
        "invoice_id": order["invoice_id"],
        "number": "INV-2026-000001",
        "kind": "invoice",
        "order_id": order["id"],
        "app_id": "support-bot",
        "issued_at": "2026-11-26T12:00:00Z",
        "status": "issued",
        "seller": DEFAULT_SELLER,
        "buyer": {
            **{k: v for k, v in BUYER.items() if k not in ("billing_email", "tax_rate")},
            "email": "billing@baeckerei.example",
        },
        "lines": [
            {
                "description": "Prepaid balance for app support-bot",
                "quantity": 1,
                "unit_price": 25_000,
                "amount": 25_000,
            }
        ],
        "subtotal": 25_000,
        "tax_rate": "0.081",
        "vat_category": "S",
        "tax": 2_025,
        "total": 27_025,
        "currency": "USD",
        "payment_method": "card",
        "payment_status": "paid",
        "credit_note_id": None,
        "replaced_by": None,
        "replaces": None,
        "refers_to": None,
        "voided_at": None,
        "void_reason": None,
    }
    assert (order["total"], order["tax"]) == (body["total"], body["tax"])
    assert http.get(f"/v1/orders/{order['id']}", headers=auth(acme.key)).json() == order


def test_a_rate_of_zero_is_category_z(server: Server, http: httpx.Client) -> None:
    who = tenant(server.engine, name="Zero Ltd")
    new_app(http, server.engine, who, plan="standard")
    order = add_funds(http, key=who.key).json()
    body = invoice(http, who, order["invoice_id"])
    assert (body["tax_rate"], body["vat_category"], body["tax"]) == ("0", "Z", 0)
    # until an admin sets the profile: the workspace's name, the seller's country
    assert body["buyer"] == {
        "legal_name": "Zero Ltd",
        "address_lines": [],
        "country": "GB",
        "tax_id": None,
        "email": None,
    }


def test_the_balance_pending_and_failed_have_no_invoice(server: Server, http: httpx.Client) -> None:
    who = tenant(server.engine)
    funded_app(http, server.engine, who, plan="essential", amount=10_000)
    fee = next(o for o in orders(http, who) if o["kind"] == "subscription")
    assert (fee["payment_method"], fee["invoice_id"]) == ("balance", None)
    wire = add_funds(http, key=who.key, method="wire", token=None).json()
    assert (wire["payment_status"], wire["invoice_id"]) == ("pending", None)
    card_now_declines(server.engine, who)
    server.clock.set(PERIOD_END)
    run(server)
    renewal = next(o for o in orders(http, who) if o["kind"] == "renewal")
    assert (renewal["payment_status"], renewal["invoice_id"]) == ("failed", None)
    funds = [o["id"] for o in orders(http, who) if o["invoice_id"] is not None]
    assert [i["order_id"] for i in invoices(http, who)] == funds
    assert len(funds) == 1


def test_a_wire_is_invoiced_when_confirmed(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    wire = add_funds(http, key=acme.key, method="wire", token=None, amount=40_000).json()
    assert invoices(http, acme) == []
    server.clock.advance(90 * MINUTE)
    confirmed = http.post(
        f"/v1/orders/{wire['id']}/confirm-payment", headers=auth(operator_key(server.engine))
    ).json()
    body = invoice(http, acme, confirmed["invoice_id"])
    assert (body["issued_at"], body["payment_method"], body["total"]) == (
        "2026-11-26T13:30:00Z",
        "wire",
        43_240,
    )


def test_renewals_and_reloads_by_card_are_invoiced(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, app_id="fee-bot", plan="essential", amount=10_000)
    reload_on(http, acme, "fee-bot", threshold=5_000, amount=10_000)
    spend(server.engine, acme, 100, now=to_micros(T0), app_id="fee-bot")
    server.clock.set(PERIOD_END)
    run(server)
    issued = invoices(http, acme, app_id="fee-bot")
    descriptions = sorted(i["lines"][0]["description"] for i in issued)
    assert descriptions == [
        "Essential plan for app fee-bot, renewal",
        "Prepaid balance for app fee-bot",
        "Prepaid balance for app fee-bot",
    ]
    for order in orders(http, acme):
        if order["payment_method"] == "card":
            assert invoice(http, acme, order["invoice_id"])["total"] == order["total"]


def test_a_profile_change_leaves_issued_invoices_alone(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    first = invoice(http, acme, add_funds(http, key=acme.key).json()["invoice_id"])
    changed = {**BUYER, "legal_name": "Société Générale", "tax_rate": "0.2", "country": "FR"}
    assert http.put("/v1/billing-profile", json=changed, headers=auth(acme.key)).is_success
    seller = {**DEFAULT_SELLER, "legal_name": "New Seller ¥ £ € ₹ Ltd", "tax_id": "GB1"}
    ops = operator_key(server.engine)
    assert http.put("/v1/operator/seller-profile", json=seller, headers=auth(ops)).is_success
    assert invoice(http, acme, first["invoice_id"]) == first
    second = invoice(http, acme, add_funds(http, key=acme.key).json()["invoice_id"])
    assert (second["buyer"]["legal_name"], second["tax_rate"]) == ("Société Générale", "0.2")
    assert second["seller"]["legal_name"] == "New Seller ¥ £ € ₹ Ltd"


def test_numbers_are_one_series_for_the_platform(server: Server, http: httpx.Client) -> None:
    tenants = [tenant(server.engine, name=f"T{n}") for n in range(3)]
    for who in tenants:
        new_app(http, server.engine, who, plan="standard")
    for _ in range(2):
        for who in tenants:
            add_funds(http, key=who.key)
            server.clock.advance(1)
    assert all_numbers(server) == [f"INV-2026-{n:06d}" for n in range(1, 7)]
    # each workspace sees its own, with gaps between them
    assert [i["number"] for i in invoices(http, tenants[1])] == [
        "INV-2026-000005",
        "INV-2026-000002",
    ]


def test_the_first_payment_after_new_year_starts_at_one(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    server.clock.set(to_micros(datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)))
    add_funds(http, key=acme.key)
    add_funds(http, key=acme.key)
    server.clock.set(to_micros(datetime(2027, 1, 1, tzinfo=UTC)))
    add_funds(http, key=acme.key)
    add_funds(http, key=acme.key)
    assert all_numbers(server) == [
        "INV-2026-000001",
        "INV-2026-000002",
        "INV-2027-000001",
        "INV-2027-000002",
    ]


def test_lists_filter_and_page(server: Server, http: httpx.Client, acme: Tenant) -> None:
    new_app(http, server.engine, acme, app_id="other-bot", plan="standard")
    ids = []
    for app_id in ("support-bot", "other-bot", "support-bot"):
        ids.append(add_funds(http, key=acme.key, app_id=app_id).json()["invoice_id"])
        server.clock.advance(MINUTE)
    first = http.get("/v1/invoices?limit=2", headers=auth(acme.key)).json()
    second = http.get(
        "/v1/invoices", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth(acme.key)
    ).json()
    assert [i["invoice_id"] for i in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
    assert [i["invoice_id"] for i in invoices(http, acme, app_id="other-bot")] == [ids[1]]
    window = {"from": "2026-11-26T12:01:00Z", "to": "2026-11-26T12:02:00Z"}
    assert [i["invoice_id"] for i in invoices(http, acme, **window)] == [ids[1]]
    offset = {"from": "2026-11-26T13:01:00+01:00"}
    assert [i["invoice_id"] for i in invoices(http, acme, **offset)] == ids[:0:-1]
    assert invoices(http, acme, status="void") == []
    assert len(invoices(http, acme, status="issued", kind="invoice")) == 3
    assert invoices(http, acme, kind="credit_note") == []
    read = make_key(server.engine, workspace_id=acme.workspace_id, scopes=[Scope.READ])
    assert http.get("/v1/invoices", headers=auth(read)).status_code == 200


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"status": "paid"}, "status"),
        ({"kind": "receipt"}, "kind"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-11-26T12:00:00"}, "from"),
        ({"cursor": "nonsense"}, "cursor"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_list_queries_are_422(
    server: Server, http: httpx.Client, acme: Tenant, params: dict[str, Any], loc: str
) -> None:
    body = problem(http.get("/v1/invoices", params=params, headers=auth(acme.key)), 422)
    assert ["query", loc] in [error["loc"] for error in body["errors"]]


def test_invoices_are_private_and_refused_to_enterprise(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    them = tenant(server.engine, name="Them")
    new_app(http, server.engine, them, app_id="their-bot", plan="standard")
    theirs = add_funds(http, key=them.key, app_id="their-bot").json()["invoice_id"]
    problem(http.get(f"/v1/invoices/{theirs}", headers=auth(acme.key)), 404)
    problem(http.get("/v1/invoices/inv_nonesuch", headers=auth(acme.key)), 404)
    problem(http.get("/v1/invoices?app_id=their-bot", headers=auth(acme.key)), 404)
    assert invoices(http, acme) == []
    problem(http.get("/v1/invoices"), 401)
    make_enterprise(server.engine, them.workspace_id)
    problem(http.get("/v1/invoices", headers=auth(them.key)), 403)
    problem(http.get(f"/v1/invoices/{theirs}", headers=auth(them.key)), 403)
    problem(http.get("/v1/orders", headers=auth(them.key)), 403)


def test_an_issued_invoice_cannot_be_changed_or_deleted(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    invoice_id = add_funds(http, key=acme.key).json()["invoice_id"]
    changes: list[dict[str, Any]] = [{"total": 1}, {"buyer": {}}, {"number": "X"}]
    for change in changes:
        with unit_of_work(server.engine, write=True) as session:
            row = session.get(Invoice, invoice_id)
            assert row is not None
            for name, value in change.items():
                setattr(row, name, value)
            with pytest.raises(RuntimeError, match="is issued"):
                session.flush()
            session.rollback()
    with unit_of_work(server.engine, write=True) as session:
        session.delete(session.get(Invoice, invoice_id))
        with pytest.raises(RuntimeError, match="never deleted"):
            session.flush()
        session.rollback()
    assert invoice(http, acme, invoice_id)["total"] == 27_025
