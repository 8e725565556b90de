"""Money on orders (SPEC §4): amounts are net, the buyer's tax is added on top, the card
or the wire is asked for the total, and add funds credits the net amount. A payment from
the balance moves no money and carries no tax."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from botbill.engine.lifecycle import run_lifecycle
from botbill.kit.db import unit_of_work
from botbill.kit.instants import to_micros
from botbill.kit.money import Money
from botbill.orders.providers import PaymentMethod
from botbill.wallet.service import place_funds_order
from botbill.workspaces.service import get_workspace
from tests.conftest import Server
from tests.factories import T0, auth
from tests.invoicing.cards import RecordingCards
from tests.plans.lifecycle import reload_on, spend
from tests.wallet.accounts import (
    Tenant,
    add_funds,
    balance_of,
    funded_app,
    new_app,
    operator_key,
    tenant,
)

PERIOD_END = to_micros(T0 + timedelta(days=30))


def set_rate(http: httpx.Client, who: Tenant, rate: str) -> None:
    body = {"legal_name": "Acme GmbH", "country": "DE", "tax_rate": rate}
    response = http.put("/v1/billing-profile", json=body, headers=auth(who.key))
    assert response.status_code == 200, response.text


def orders(http: httpx.Client, who: Tenant) -> list[dict[str, Any]]:
    response = http.get("/v1/orders", headers=auth(who.key))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items[::-1]


def money(order: dict[str, Any]) -> tuple[Any, ...]:
    return (order["kind"], order["amount"], order["tax_rate"], order["tax"], order["total"])


@pytest.fixture
def acme(server: Server, http: httpx.Client) -> Tenant:
    who = tenant(server.engine)
    set_rate(http, who, "0.19")
    return who


def test_funds_by_card_charge_the_total_and_credit_the_net(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    new_app(http, server.engine, acme, plan="standard")
    response = add_funds(http, key=acme.key, amount=25_000)
    assert response.status_code == 201, response.text
    assert money(response.json()) == ("add_funds", 25_000, "0.19", 4_750, 29_750)
    assert balance_of(http, key=acme.key) == 25_000


def test_the_card_provider_is_asked_for_the_total(server: Server, http: httpx.Client) -> None:
    who = tenant(server.engine)
    set_rate(http, who, "0.0825")
    new_app(http, server.engine, who, plan="standard")
    cards = RecordingCards()
    with unit_of_work(server.engine, write=True) as session:
        order = place_funds_order(
            session,
            get_workspace(session, who.workspace_id),
            "support-bot",
            amount=10_001,
            method=PaymentMethod.CARD,
            token="tok_ok",
            limits=(10_000, 2_000_000),
            cards=cards,
            now=to_micros(T0),
        )
    # 10,001 x 0.0825 = 825.0825 -> 825
    assert (order.amount, order.tax, order.total) == (10_001, 825, 10_826)
    assert cards.charges == [(order.id, Money(10_826, "USD"))]


def test_a_wire_asks_for_the_total_and_lands_the_net(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    new_app(http, server.engine, acme, plan="standard")
    response = add_funds(http, key=acme.key, amount=50_000, method="wire", token=None)
    order = response.json()
    assert money(order) == ("add_funds", 50_000, "0.19", 9_500, 59_500)
    assert order["payment_status"] == "pending"
    confirmed = http.post(
        f"/v1/orders/{order['id']}/confirm-payment", headers=auth(operator_key(server.engine))
    )
    assert confirmed.status_code == 200, confirmed.text
    assert money(confirmed.json()) == money(order)
    assert balance_of(http, key=acme.key) == 50_000


def test_a_fee_paid_from_the_balance_carries_no_tax(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    new_app(http, server.engine, acme, plan="essential")
    add_funds(http, key=acme.key, amount=20_000)
    (fee,) = [order for order in orders(http, acme) if order["kind"] == "subscription"]
    assert money(fee) == ("subscription", 9_900, "0", 0, 9_900)
    assert (fee["payment_method"], fee["payment_status"]) == ("balance", "paid")
    assert balance_of(http, key=acme.key) == 20_000 - 9_900


def test_an_upgrade_by_card_is_taxed_on_what_is_due(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="standard")
    response = http.post(
        "/v1/apps/support-bot/subscription/change",
        json={"plan": "essential", "payment_method": "card", "token": "tok_ok"},
        headers=auth(acme.key),
    )
    assert response.status_code == 200, response.text
    (change,) = [order for order in orders(http, acme) if order["kind"] == "plan_change"]
    assert money(change) == ("plan_change", 9_900, "0.19", 1_881, 11_781)
    assert change["payment_method"] == "card"


def test_renewals_and_reloads_by_card_charge_the_total(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=10_000)  # saves the card
    reload_on(http, acme, threshold=5_000, amount=10_000)
    spend(server.engine, acme, 100, now=to_micros(T0))  # 10,000 - 9,900 - 100 = 0
    server.clock.set(PERIOD_END)
    cards = RecordingCards()
    counts = run_lifecycle(server.engine, server.clock, cards=cards)
    assert counts.errors == 0
    late = [order for order in orders(http, acme) if order["billing_date"] > "2026-12"]
    (renewal,) = [order for order in late if order["kind"] == "renewal"]
    (reload,) = [order for order in late if order["kind"] == "add_funds"]
    assert money(renewal) == ("renewal", 9_900, "0.19", 1_881, 11_781)
    assert money(reload) == ("add_funds", 10_000, "0.19", 1_900, 11_900)
    assert [amount.amount for _, amount in cards.charges] == [11_781, 11_900]
    assert balance_of(http, key=acme.key) == 10_000


def test_at_rate_zero_the_total_is_the_amount(server: Server, http: httpx.Client) -> None:
    who = tenant(server.engine)
    new_app(http, server.engine, who, plan="standard")
    order = add_funds(http, key=who.key, amount=12_345).json()
    assert money(order) == ("add_funds", 12_345, "0", 0, 12_345)
