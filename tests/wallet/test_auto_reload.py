"""Auto-reload (SPEC §3.3): one add-funds order per dip below the threshold, charged to the
saved card by the lifecycle job; a declined card is not tried again until money lands or
the settings change."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier, Lock

import httpx
import pytest

from botbill.audit.service import Actor
from botbill.engine.lifecycle import LifecycleCounts, run_lifecycle
from botbill.kit.db import unit_of_work
from botbill.kit.instants import MINUTE, to_micros
from botbill.kit.money import Money
from botbill.orders.providers import PaymentResult, TestCardProvider
from botbill.wallet.service import grant_promotion
from botbill.workspaces.service import get_workspace
from tests.conftest import Server
from tests.factories import T0, auth
from tests.plans.lifecycle import (
    booked_balance,
    cancel,
    card_now_declines,
    ledger_kinds,
    orders_of,
    reload_on,
    run,
    settings,
    spend,
)
from tests.wallet.accounts import (
    Tenant,
    add_funds,
    balance_of,
    funded_app,
    new_app,
    operator_key,
    tenant,
)

NOW = to_micros(T0)
PAID, FAILED = ("add_funds", 10_000, "card", "paid"), ("add_funds", 10_000, "card", "failed")


@pytest.fixture
def acme(server: Server) -> Tenant:
    return tenant(server.engine)


def reloads(server: Server, who: Tenant, app_id: str = "support-bot") -> list[tuple[object, ...]]:
    """The app's card add-funds orders after the first (the top-up that saved the card)."""
    orders = orders_of(server.engine, who, app_id)
    return [o for o in orders if o[0] == "add_funds" and o[2] == "card"][1:]


def later(server: Server) -> int:
    server.clock.advance(MINUTE)
    return server.clock.now()


def test_one_order_per_dip_and_the_balance_comes_back(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="standard", amount=25_000)
    reload_on(http, acme, threshold=20_000)
    assert run(server).reloads_paid == 0  # 25,000: not below
    spend(server.engine, acme, 6_000, now=later(server))  # 19,000: a dip
    assert (run(server).reloads_paid, run(server).reloads_paid) == (1, 0)
    assert reloads(server, acme) == [PAID]
    assert booked_balance(server.engine, acme, now=later(server)) == 29_000
    assert run(server).reloads_paid == 0
    spend(server.engine, acme, 10_000, now=later(server))  # 19,000 again: a new dip
    assert run(server).reloads_paid == 1
    assert reloads(server, acme) == [PAID, PAID]
    assert balance_of(http, key=acme.key) == 29_000
    assert ledger_kinds(server.engine, acme) == ["funds", "usage", "funds", "usage", "funds"]


def test_a_reload_that_falls_short_is_the_dips_only_one(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="standard", amount=60_000)
    reload_on(http, acme, threshold=50_000)
    spend(server.engine, acme, 30_000, now=later(server))  # 30,000
    assert run(server).reloads_paid == 1  # 40,000: still below, but this dip had its order
    later(server)
    assert run(server).reloads_paid == 0
    spend(server.engine, acme, 5_000, now=later(server))  # charges do not re-arm it
    assert run(server).reloads_paid == 0
    assert reloads(server, acme) == [PAID]
    with unit_of_work(server.engine, write=True) as session:  # other money lands
        grant_promotion(
            session,
            get_workspace(session, acme.workspace_id),
            "support-bot",
            amount=1_000,
            expires_at=server.clock.now() + 30 * 24 * 60 * MINUTE,
            reason="goodwill",
            actor=Actor.operator("test"),
            cards=TestCardProvider(),
            now=later(server),
        )
    later(server)
    assert run(server).reloads_paid == 1
    assert reloads(server, acme) == [PAID, PAID]
    assert booked_balance(server.engine, acme, now=later(server)) == 36_000 + 10_000


def test_a_declined_card_is_not_tried_again_until_something_changes(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="standard", amount=25_000)
    reload_on(http, acme, threshold=20_000)
    card_now_declines(server.engine, acme)
    spend(server.engine, acme, 6_000, now=later(server))  # 19,000
    counts = run(server)
    assert (counts.reloads_paid, counts.reloads_failed) == (0, 1)
    assert reloads(server, acme) == [FAILED]
    for _ in range(3):  # no storm: neither time nor charges retry it
        spend(server.engine, acme, 1_000, now=later(server))
        assert run(server).reloads_failed == 0
    assert reloads(server, acme) == [FAILED]
    assert booked_balance(server.engine, acme, now=later(server)) == 16_000
    # Saving the settings again is a retry.
    reload_on(http, acme, threshold=20_000)
    later(server)
    assert run(server).reloads_failed == 1
    spend(server.engine, acme, 10_000, now=later(server))  # 6,000
    assert run(server).reloads_failed == 0
    # So is money landing: a wire the operator confirms (16,000: still below 20,000).
    wire = add_funds(http, key=acme.key, method="wire", token=None, amount=10_000).json()
    ops = operator_key(server.engine)
    later(server)
    assert http.post(f"/v1/orders/{wire['id']}/confirm-payment", headers=auth(ops)).is_success
    later(server)
    assert run(server).reloads_failed == 1
    assert reloads(server, acme) == [FAILED, FAILED, FAILED]
    assert booked_balance(server.engine, acme, now=later(server)) == 16_000
    assert ledger_kinds(server.engine, acme).count("funds") == 2  # the first card, the wire


def test_auto_reload_turned_on_below_the_threshold_reloads_at_once(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=10_000)  # 100 left
    later(server)
    reload_on(http, acme, threshold=5_000, amount=15_000)
    later(server)
    assert run(server).reloads_paid == 1
    assert reloads(server, acme) == [("add_funds", 15_000, "card", "paid")]
    assert balance_of(http, key=acme.key) == 15_100


def test_only_active_apps_that_draw_on_the_balance_reload(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, app_id="off-bot", plan="standard", amount=10_000)
    funded_app(http, server.engine, acme, app_id="gone-bot", plan="standard", amount=10_000)
    new_app(http, server.engine, acme, app_id="trial-bot")
    add_funds(http, key=acme.key, app_id="trial-bot", amount=10_000)
    for app_id in ("off-bot", "gone-bot", "trial-bot"):
        reload_on(http, acme, app_id, threshold=50_000)
    assert settings(http, acme, "off-bot", auto_reload={"enabled": False}).status_code == 200
    assert cancel(http, acme, "gone-bot").status_code == 200
    later(server)
    counts = run(server)
    assert (counts.reloads_paid, counts.reloads_failed) == (0, 0)
    for app_id in ("off-bot", "gone-bot", "trial-bot"):
        assert reloads(server, acme, app_id) == []


class CountingCards(TestCardProvider):
    """The test provider, counting the charges it was asked for (from any thread)."""

    def __init__(self) -> None:
        self.charges: list[str] = []
        self._lock = Lock()

    def charge(self, *, token: str, amount: Money, order_id: str) -> PaymentResult:
        with self._lock:
            self.charges.append(order_id)
        return super().charge(token=token, amount=amount, order_id=order_id)


def test_parallel_runs_renew_and_reload_each_app_once(server: Server) -> None:
    """Four lifecycle runs at once over apps due for renewal, which then fall below their
    threshold: every renewal and every auto-reload happens exactly once."""
    first, second = tenant(server.engine, name="One"), tenant(server.engine, name="Two")
    apps = {f"bot-{n:02d}": (first if n % 2 else second) for n in range(12)}
    by_card = set(list(apps)[::3])  # their balance will not cover the renewal
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for app_id, who in apps.items():
            amount = 10_000 if app_id in by_card else 25_000
            funded_app(http, server.engine, who, app_id=app_id, plan="essential", amount=amount)
            reload_on(http, who, app_id, threshold=10_000 if app_id in by_card else 5_300)
    # Balances now: 100 (renews by card, then reloads) or 15,100 (renews from the
    # balance: 5,200, below 5,300, then reloads).
    server.clock.set(NOW + 30 * 24 * 60 * MINUTE)
    threads = 4
    barrier = Barrier(threads)
    cards = CountingCards()

    def once(_: int) -> LifecycleCounts:
        barrier.wait()
        return run_lifecycle(server.engine, server.clock, cards=cards)

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(once, range(threads)))
    assert sum(r.errors for r in results) == 0
    assert sum(r.rolled for r in results) == len(apps)
    assert sum(r.reloads_paid for r in results) == len(apps)
    assert len(cards.charges) == len(by_card) + len(apps)  # no card charged twice
    for app_id, who in apps.items():
        paid_by = "card" if app_id in by_card else "balance"
        first_funds = 10_000 if app_id in by_card else 25_000
        assert sorted(orders_of(server.engine, who, app_id)) == [
            ("add_funds", 10_000, "card", "paid"),  # the auto-reload
            ("add_funds", first_funds, "card", "paid"),
            ("renewal", 9_900, paid_by, "paid"),
            ("subscription", 9_900, "balance", "paid"),
        ], app_id
        fees = 1 if app_id in by_card else 2
        assert sorted(ledger_kinds(server.engine, who, app_id)) == (
            ["funds", "funds"] + ["plan_fee"] * fees
        ), app_id
        balance = 100 + 10_000 if app_id in by_card else 5_200 + 10_000
        assert booked_balance(server.engine, who, app_id, now=server.clock.now()) == balance
    again = run(server)
    assert (again.taken, again.reloads_paid, again.reloads_failed) == (0, 0, 0)
