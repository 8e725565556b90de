"""Changes announced by the services that make them, in the same transaction: orders,
invoices, extension requests and scheduled downgrades."""

from __future__ import annotations

from datetime import timedelta

import httpx

from botbill.kit.instants import to_micros
from tests.conftest import Server
from tests.factories import T0, auth
from tests.plans.lifecycle import card_now_declines, run
from tests.wallet.accounts import add_funds, funded_app, new_app, operator_key, tenant
from tests.webhooks.announced import announced, subscribe, types_of

ALL_BUT_STATE = [
    "order.paid",
    "order.failed",
    "invoice.issued",
    "invoice.voided",
    "downgrade_scheduled",
    "extension_requested",
    "extension_approved",
    "extension_rejected",
]


def test_a_card_payment_announces_its_invoice_and_the_paid_order(
    server: Server, http: httpx.Client
) -> None:
    acme = tenant(server.engine)
    new_app(http, server.engine, acme, plan="standard")
    subscribe(http, acme.key, *ALL_BUT_STATE)
    order = add_funds(http, key=acme.key, amount=25_000).json()
    events = announced(server.engine, acme.workspace_id)
    assert types_of(events) == ["invoice.issued", "order.paid"]
    invoice, paid = events[0][1], events[1][1]
    assert paid == {
        "workspace_id": acme.workspace_id,
        "order_id": order["id"],
        "app_id": "support-bot",
        "kind": "add_funds",
        "plan": None,
        "amount": 25_000,
        "tax": 0,
        "total": 25_000,
        "currency": "USD",
        "payment_method": "card",
        "payment_status": "paid",
        "invoice_id": order["invoice_id"],
    }
    assert invoice["invoice_id"] == order["invoice_id"]
    assert invoice["order_id"] == order["id"]
    assert invoice["number"].startswith("INV-2026-")
    assert (invoice["total"], invoice["currency"], invoice["replaces"]) == (25_000, "USD", None)


def test_a_declined_card_announces_nothing(server: Server, http: httpx.Client) -> None:
    acme = tenant(server.engine)
    new_app(http, server.engine, acme, plan="standard")
    subscribe(http, acme.key, *ALL_BUT_STATE)
    response = add_funds(http, key=acme.key, token="tok_declined")
    assert response.status_code == 402
    assert announced(server.engine, acme.workspace_id) == []


def test_a_wire_is_announced_when_confirmed_and_a_void_with_its_replacement(
    server: Server, http: httpx.Client
) -> None:
    acme = tenant(server.engine)
    new_app(http, server.engine, acme, plan="standard")
    subscribe(http, acme.key, *ALL_BUT_STATE)
    wire = add_funds(http, key=acme.key, method="wire", token=None).json()
    assert announced(server.engine, acme.workspace_id) == []
    ops = operator_key(server.engine)
    confirmed = http.post(f"/v1/orders/{wire['id']}/confirm-payment", headers=auth(ops))
    assert confirmed.status_code == 200, confirmed.text
    invoice_id = confirmed.json()["invoice_id"]
    assert types_of(announced(server.engine, acme.workspace_id)) == [
        "invoice.issued",
        "order.paid",
    ]
    server.clock.advance(60_000_000)
    voided = http.post(
        f"/v1/invoices/{invoice_id}/void", json={"reason": "typo"}, headers=auth(ops)
    )
    assert voided.status_code == 201, voided.text
    events = announced(server.engine, acme.workspace_id)
    assert types_of(events)[2:] == ["invoice.issued", "invoice.voided"]
    replacement, void = events[2][1], events[3][1]
    assert void["invoice_id"] == invoice_id
    assert void["reason"] == "typo"
    assert void["credit_note_id"] == voided.json()["invoice_id"]
    assert void["replaced_by"] == replacement["invoice_id"]
    assert replacement["replaces"] == invoice_id


def test_a_renewal_that_fails_announces_the_failed_order(
    server: Server, http: httpx.Client
) -> None:
    acme = tenant(server.engine)
    funded_app(http, server.engine, acme, plan="essential", amount=10_000)
    subscribe(http, acme.key, "order.failed")
    card_now_declines(server.engine, acme)
    server.clock.set(to_micros(T0 + timedelta(days=30)))
    run(server)
    [(kind, data)] = announced(server.engine, acme.workspace_id)
    assert kind == "order.failed"
    assert (data["kind"], data["payment_status"], data["amount"]) == ("renewal", "failed", 9_900)
    assert data["failure_reason"]


def test_extension_requests_and_decisions_are_announced(server: Server, http: httpx.Client) -> None:
    acme = tenant(server.engine)
    funded_app(http, server.engine, acme, plan="essential", amount=20_000)
    subscribe(http, acme.key, *ALL_BUT_STATE)
    asked = http.post(
        "/v1/apps/support-bot/extension-requests",
        json={"days": 14, "reason": "launch slipped"},
        headers=auth(acme.key),
    ).json()
    ops = operator_key(server.engine)
    server.clock.advance(60_000_000)
    decided = http.post(
        f"/v1/extension-requests/{asked['id']}/decision",
        json={"approve": True, "note": "once"},
        headers=auth(ops),
    )
    assert decided.status_code == 200, decided.text
    events = [e for e in announced(server.engine, acme.workspace_id) if e[0].startswith("ext")]
    assert events == [
        (
            "extension_requested",
            {
                "workspace_id": acme.workspace_id,
                "app_id": "support-bot",
                "extension_request_id": asked["id"],
                "days": 14,
                "reason": "launch slipped",
            },
        ),
        (
            "extension_approved",
            {
                "workspace_id": acme.workspace_id,
                "app_id": "support-bot",
                "extension_request_id": asked["id"],
                "days": 14,
                "note": "once",
                "period_end": "2027-01-09T12:00:00Z",
            },
        ),
    ]


def test_a_scheduled_downgrade_is_announced(server: Server, http: httpx.Client) -> None:
    acme = tenant(server.engine)
    funded_app(http, server.engine, acme, plan="advanced", amount=10_000)
    subscribe(http, acme.key, "downgrade_scheduled")
    response = http.post(
        "/v1/apps/support-bot/subscription/change",
        json={"plan": "essential"},
        headers=auth(acme.key),
    )
    assert response.status_code == 202, response.text
    assert announced(server.engine, acme.workspace_id) == [
        (
            "downgrade_scheduled",
            {
                "workspace_id": acme.workspace_id,
                "app_id": "support-bot",
                "plan": "advanced",
                "scheduled_plan": "essential",
                "effective_at": "2026-12-26T12:00:00Z",
            },
        )
    ]
