"""Voiding (SPEC §4): an operator's correction of a document, not of the money. A credit
note cancels the invoice in full, a replacement is issued at once with the current
profiles, the voided invoice is marked and otherwise kept; a second void is 409."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from botbill.invoicing.models import Invoice
from botbill.kit.db import unit_of_work
from botbill.kit.instants import MINUTE
from tests.conftest import Server
from tests.factories import auth, error_locs, problem
from tests.invoicing.factories import BUYER, invoice, invoices
from tests.wallet.accounts import Tenant, add_funds, balance_of, new_app, operator_key, tenant

VOIDING = {"status", "credit_note_id", "replaced_by", "voided_at", "void_reason"}


def void(http: httpx.Client, key: str, invoice_id: str, reason: str = "wrong address") -> Any:
    return http.post(f"/v1/invoices/{invoice_id}/void", json={"reason": reason}, headers=auth(key))


def documents(server: Server) -> int:
    with unit_of_work(server.engine, write=False) as session:
        return int(session.scalar(select(func.count()).select_from(Invoice)) or 0)


@pytest.fixture
def acme(server: Server, http: httpx.Client) -> Tenant:
    who = tenant(server.engine, name="Acme")
    assert http.put("/v1/billing-profile", json=BUYER, headers=auth(who.key)).is_success
    new_app(http, server.engine, who, plan="standard")
    return who


def test_a_void_issues_a_credit_note_and_a_replacement(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    order = add_funds(http, key=acme.key, amount=25_000).json()
    original = invoice(http, acme, order["invoice_id"])
    moved = {**BUYER, "address_lines": ["Limmatquai 2", "8001 Zürich"], "tax_rate": "0.2"}
    assert http.put("/v1/billing-profile", json=moved, headers=auth(acme.key)).is_success
    server.clock.advance(10 * MINUTE)
    ops = operator_key(server.engine)

    response = void(http, ops, original["invoice_id"])
    assert response.status_code == 201, response.text
    credit = response.json()
    assert credit["kind"] == "credit_note"
    assert credit["number"] == "CN-2026-000001"
    assert credit["refers_to"] == original["invoice_id"]
    assert credit["order_id"] == order["id"]
    assert credit["issued_at"] == "2026-11-26T12:10:00Z"
    assert (credit["subtotal"], credit["tax"], credit["total"]) == (-25_000, -2_025, -27_025)
    assert credit["tax_rate"] == original["tax_rate"]
    assert [(line["unit_price"], line["amount"]) for line in credit["lines"]] == [
        (-25_000, -25_000)
    ]
    # the credit note cancels the invoice as it was issued: the same parties
    assert (credit["seller"], credit["buyer"]) == (original["seller"], original["buyer"])

    voided = invoice(http, acme, original["invoice_id"])
    assert voided["status"] == "void"
    assert voided["credit_note_id"] == credit["invoice_id"]
    assert voided["void_reason"] == "wrong address"
    unchanged = {k: v for k, v in voided.items() if k not in VOIDING}
    assert unchanged == {k: v for k, v in original.items() if k not in VOIDING}

    replacement = invoice(http, acme, voided["replaced_by"])
    assert replacement["number"] == "INV-2026-000002"
    assert replacement["replaces"] == original["invoice_id"]
    assert replacement["status"] == "issued"
    assert replacement["buyer"]["address_lines"] == ["Limmatquai 2", "8001 Zürich"]
    same = ("lines", "subtotal", "tax_rate", "tax", "total", "currency", "order_id")
    assert {k: replacement[k] for k in same} == {k: original[k] for k in same}
    assert replacement["tax_rate"] == "0.081"  # what was charged, not today's rate

    again = http.get(f"/v1/orders/{order['id']}", headers=auth(acme.key)).json()
    assert again["invoice_id"] == replacement["invoice_id"]
    assert balance_of(http, key=acme.key) == 25_000
    assert [i["kind"] for i in invoices(http, acme)] == ["invoice", "credit_note", "invoice"]
    assert [i["number"] for i in invoices(http, acme, status="void")] == ["INV-2026-000001"]

    log = http.get("/v1/audit-log?action=invoice.voided", headers=auth(acme.key)).json()
    (entry,) = log["items"]
    assert entry["target"] == f"invoice:{original['invoice_id']}"
    assert entry["actor"]["kind"] == "operator"
    assert entry["after"]["credit_note_number"] == "CN-2026-000001"
    assert entry["after"]["replacement_number"] == "INV-2026-000002"


def test_a_second_void_or_a_credit_note_is_409_and_changes_nothing(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    invoice_id = add_funds(http, key=acme.key).json()["invoice_id"]
    ops = operator_key(server.engine)
    credit = void(http, ops, invoice_id).json()
    count = documents(server)
    assert "already void" in problem(void(http, ops, invoice_id), 409)["detail"]
    assert "credit note" in problem(void(http, ops, credit["invoice_id"]), 409)["detail"]
    assert documents(server) == count
    # the replacement is an invoice like any other: it can be voided in turn
    replacement = invoice(http, acme, invoice_id)["replaced_by"]
    assert void(http, ops, replacement).json()["number"] == "CN-2026-000002"
    assert invoice(http, acme, replacement)["replaced_by"] is not None


def test_only_operators_void_and_bad_requests_change_nothing(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    invoice_id = add_funds(http, key=acme.key).json()["invoice_id"]
    ops = operator_key(server.engine)
    count = documents(server)
    problem(void(http, acme.key, invoice_id), 403)
    problem(http.post(f"/v1/invoices/{invoice_id}/void", json={"reason": "x"}), 401)
    problem(void(http, ops, "inv_nonesuch"), 404)
    for body in ({}, {"reason": "   "}, {"reason": "x" * 501}, {"reason": "x", "more": 1}):
        response = http.post(f"/v1/invoices/{invoice_id}/void", json=body, headers=auth(ops))
        assert error_locs(problem(response, 422))
    assert documents(server) == count
    assert invoice(http, acme, invoice_id)["status"] == "issued"
    assert (
        http.get("/v1/audit-log?action=invoice.voided", headers=auth(acme.key)).json()["items"]
        == []
    )


def test_voids_take_numbers_from_the_same_series(server: Server, http: httpx.Client) -> None:
    them = tenant(server.engine, name="Them")
    new_app(http, server.engine, them, plan="standard")
    first = add_funds(http, key=them.key).json()["invoice_id"]
    void(http, operator_key(server.engine), first)
    third = invoice(http, them, add_funds(http, key=them.key).json()["invoice_id"])
    assert third["number"] == "INV-2026-000003"
