"""The lifecycle job run by hand with a held clock (SPEC §3.5): renewals, expiry, scheduled
downgrades and lapses happen at period end without anybody reading the app."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from botbill.app import create_app
from botbill.audit.service import Actor
from botbill.kit.clock import FrozenClock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import DAY, to_micros
from botbill.orders.providers import TestCardProvider
from botbill.plans.models import Subscription
from botbill.settings import Settings
from botbill.wallet.service import grant_promotion
from botbill.workspaces.models import App
from botbill.workspaces.service import get_workspace
from tests.conftest import Server
from tests.factories import T0, auth
from tests.plans.lifecycle import (
    booked_balance,
    cancel,
    card_now_declines,
    ledger_kinds,
    orders_of,
    run,
    settings,
)
from tests.wallet.accounts import (
    Tenant,
    add_funds,
    entitlement,
    funded_app,
    new_app,
    operator_key,
    subscription,
    tenant,
)

PERIOD_END = to_micros(T0 + timedelta(days=30))  # 26 Nov -> 26 Dec 2026


@pytest.fixture
def acme(server: Server) -> Tenant:
    return tenant(server.engine)


def notice_types(body: dict[str, Any]) -> list[str]:
    return [notice["type"] for notice in body["notices"]]


def state(server: Server, who: Tenant, app_id: str = "support-bot") -> tuple[str, str | None]:
    with unit_of_work(server.engine, write=False) as session:
        row = session.get(Subscription, (who.workspace_id, app_id))
        assert row is not None
        return row.state, row.expired_because


def test_nothing_is_due_before_the_period_ends(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=25_000)
    server.clock.set(PERIOD_END - 1)
    counts = run(server)
    assert (counts.taken, counts.rolled) == (0, 0)
    assert [kind for kind, *_ in orders_of(server.engine, acme)] == ["add_funds", "subscription"]


def test_renewal_from_the_balance(server: Server, http: httpx.Client, acme: Tenant) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=25_000)
    server.clock.set(PERIOD_END)
    counts = run(server)
    assert (counts.taken, counts.rolled, counts.expired) == (1, 1, 0)
    assert orders_of(server.engine, acme)[-1] == ("renewal", 9_900, "balance", "paid")
    assert booked_balance(server.engine, acme, now=PERIOD_END) == 25_000 - 2 * 9_900
    assert run(server).taken == 0  # done once: nothing is due any more
    assert len(orders_of(server.engine, acme)) == 3
    detail = subscription(http, key=acme.key)
    assert (detail["status"], detail["period_start"]) == ("active", "2026-12-26T12:00:00Z")
    assert detail["period_end"] == "2027-01-26T12:00:00Z"


def test_renewal_with_the_saved_card(server: Server, http: httpx.Client, acme: Tenant) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=10_000)  # 100 left
    server.clock.set(PERIOD_END)
    counts = run(server)
    assert (counts.rolled, counts.expired) == (1, 0)
    assert orders_of(server.engine, acme)[-1] == ("renewal", 9_900, "card", "paid")
    assert booked_balance(server.engine, acme, now=PERIOD_END) == 100
    assert ledger_kinds(server.engine, acme) == ["funds", "plan_fee"]  # the card paid it
    assert entitlement(http, key=acme.key) == {"active": True}


def test_renewal_off_expires_the_plan_at_period_end(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=30_000)
    response = settings(http, acme, renew=False)
    assert response.status_code == 200, response.text
    assert (response.json()["renews"], response.json()["status"]) == (False, "active")
    server.clock.set(PERIOD_END - 7 * DAY - 1)
    assert notice_types(subscription(http, key=acme.key)) == []
    server.clock.set(PERIOD_END - 7 * DAY)  # 7 days ahead
    detail = subscription(http, key=acme.key)
    assert (detail["status"], notice_types(detail)) == ("expiring", ["plan_expiring"])
    assert detail["notices"][0]["detail"] == "the essential plan ends on 2026-12-26"
    server.clock.set(PERIOD_END)
    counts = run(server)
    assert (counts.taken, counts.rolled, counts.expired) == (1, 0, 1)
    assert state(server, acme) == ("expired", "renewal_off")
    assert [kind for kind, *_ in orders_of(server.engine, acme)] == ["add_funds", "subscription"]
    assert booked_balance(server.engine, acme, now=PERIOD_END) == 30_000 - 9_900
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "plan_expired"}
    detail = subscription(http, key=acme.key)
    assert (detail["status"], notice_types(detail)) == ("expired", ["plan_expired"])
    assert detail["notices"][0]["detail"] == (
        "the essential plan ended on 2026-12-26 (renewal was off)"
    )


def test_renewal_turned_back_on_renews(server: Server, http: httpx.Client, acme: Tenant) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=30_000)
    assert settings(http, acme, renew=False).status_code == 200
    body = settings(http, acme, renew=True).json()
    assert body["renews"] is True
    server.clock.set(PERIOD_END)
    assert run(server).rolled == 1
    assert orders_of(server.engine, acme)[-1] == ("renewal", 9_900, "balance", "paid")


def test_renewal_fails_without_funds_or_a_card(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    new_app(http, server.engine, acme, plan="standard")
    wire = add_funds(http, key=acme.key, method="wire", token=None, amount=10_000).json()
    ops = operator_key(server.engine)
    assert http.post(f"/v1/orders/{wire['id']}/confirm-payment", headers=auth(ops)).is_success
    change = http.post(
        "/v1/apps/support-bot/subscription/change",
        json={"plan": "essential"},
        headers=auth(acme.key),
    )
    assert change.status_code == 200, change.text  # paid from the balance: 100 left
    server.clock.set(PERIOD_END)
    counts = run(server)
    assert (counts.rolled, counts.expired) == (0, 1)
    assert state(server, acme) == ("expired", "renewal_failed")
    assert orders_of(server.engine, acme)[-1] == ("renewal", 9_900, "balance", "failed")
    assert booked_balance(server.engine, acme, now=PERIOD_END) == 100
    detail = subscription(http, key=acme.key)
    assert notice_types(detail) == ["plan_expired", "renewal_failed", "low_balance"]
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "plan_expired"}


def test_renewal_fails_when_the_saved_card_is_declined(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=10_000)  # 100 left
    card_now_declines(server.engine, acme)
    server.clock.set(PERIOD_END)
    counts = run(server)
    assert (counts.rolled, counts.expired) == (0, 1)
    assert state(server, acme) == ("expired", "renewal_failed")
    assert orders_of(server.engine, acme)[-1] == ("renewal", 9_900, "card", "failed")
    assert ledger_kinds(server.engine, acme) == ["funds", "plan_fee"]  # nothing moved
    assert run(server).taken == 0  # expired: no second attempt
    assert len(orders_of(server.engine, acme)) == 3
    detail = subscription(http, key=acme.key)
    assert (detail["status"], notice_types(detail)) == (
        "expired",
        ["plan_expired", "renewal_failed", "low_balance"],
    )
    assert detail["notices"][1]["detail"] == "the renewal due on 2026-12-26 could not be paid"


def test_a_scheduled_downgrade_applies_at_period_end(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="advanced", amount=70_000)
    change = http.post(
        "/v1/apps/support-bot/subscription/change",
        json={"plan": "essential"},
        headers=auth(acme.key),
    )
    assert change.status_code == 202
    server.clock.set(PERIOD_END)
    assert run(server).rolled == 1
    assert orders_of(server.engine, acme)[-1] == ("plan_change", 9_900, "balance", "paid")
    with unit_of_work(server.engine, write=False) as session:
        app = session.get(App, (acme.workspace_id, "support-bot"))
        assert app is not None
        assert app.plan == "essential"


def test_months_missed_are_rolled_one_by_one(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=40_000)
    server.clock.set(to_micros(T0 + timedelta(days=92)))  # 26 Dec, 26 Jan, 26 Feb passed
    counts = run(server)
    assert (counts.taken, counts.rolled) == (1, 1)
    renewals = [o for o in orders_of(server.engine, acme) if o[0] == "renewal"]
    assert renewals == [("renewal", 9_900, "balance", "paid")] * 3
    assert subscription(http, key=acme.key)["period_start"] == "2027-02-26T12:00:00Z"


def test_every_workspace_is_served(server: Server, http: httpx.Client) -> None:
    first, second = tenant(server.engine, name="One"), tenant(server.engine, name="Two")
    funded_app(http, server.engine, first, plan="essential", amount=25_000)
    funded_app(http, server.engine, second, app_id="other-bot", plan="standard", amount=10_000)
    server.clock.set(PERIOD_END)
    counts = run(server)
    assert (counts.taken, counts.rolled) == (2, 2)
    assert orders_of(server.engine, first)[-1] == ("renewal", 9_900, "balance", "paid")
    assert len(orders_of(server.engine, second, "other-bot")) == 1  # pay-as-you-go: no order
    with unit_of_work(server.engine, write=False) as session:
        rows = session.scalars(select(Subscription.period_start).order_by(Subscription.app_id))
        assert list(rows) == [PERIOD_END, PERIOD_END]


def test_trials_and_cancelled_subscriptions_are_not_due(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    new_app(http, server.engine, acme, app_id="trial-bot")
    funded_app(http, server.engine, acme, plan="essential", amount=25_000)
    assert cancel(http, acme).status_code == 200
    server.clock.set(PERIOD_END)
    assert run(server).taken == 0  # a trial just stops; a cancelled plan ended
    assert [kind for kind, *_ in orders_of(server.engine, acme)] == ["add_funds", "subscription"]
    assert state(server, acme) == ("cancelled", None)
    assert entitlement(http, key=acme.key, app_id="trial-bot")["reason"] == "trial_expired"


def test_a_promotional_credit_lapses_at_its_expiry(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="standard", amount=10_000)
    with unit_of_work(server.engine, write=True) as session:
        grant_promotion(
            session,
            get_workspace(session, acme.workspace_id),
            "support-bot",
            amount=3_000,
            expires_at=to_micros(T0) + 3 * DAY,
            reason="welcome",
            actor=Actor.operator("test"),
            cards=TestCardProvider(),
            now=to_micros(T0),
        )
    server.clock.set(to_micros(T0) + 3 * DAY)
    counts = run(server)
    assert (counts.taken, counts.rolled) == (1, 0)
    assert ledger_kinds(server.engine, acme) == ["funds", "promo_grant", "promo_lapse"]
    assert booked_balance(server.engine, acme, now=to_micros(T0) + 3 * DAY) == 10_000
    assert run(server).taken == 0


def test_an_app_older_than_subscriptions_gets_one(server: Server, acme: Tenant) -> None:
    with unit_of_work(server.engine, write=True) as session:
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
    counts = run(server)
    assert counts.taken == 1
    with unit_of_work(server.engine, write=False) as session:
        row = session.get(Subscription, (acme.workspace_id, "old-bot"))
        assert row is not None
        assert (row.plan_code, row.state) == ("standard", "active")


def test_the_server_runs_the_job(db: Engine, database_url: str) -> None:
    clock = FrozenClock(to_micros(T0))
    settings = Settings(
        environment="test",
        database_url=database_url,
        migrate_on_start=False,
        jobs_enabled=True,
        completion_interval_seconds=3600,
        lifecycle_interval_seconds=0.05,
    )
    who = tenant(db)
    with TestClient(create_app(settings, clock=clock)) as client:
        funded_app(client, db, who, plan="essential", amount=25_000)
        clock.set(PERIOD_END)  # nobody reads the app: the job renews it
        deadline = time.monotonic() + 10
        while orders_of(db, who)[-1][0] != "renewal":
            assert time.monotonic() < deadline, "the lifecycle job did not renew the plan"
            time.sleep(0.05)
    assert orders_of(db, who)[-1] == ("renewal", 9_900, "balance", "paid")
