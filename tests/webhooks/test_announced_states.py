"""The sweep announces what time and usage change, once per occurrence: entitlement
changes and the notices no request writes."""

from __future__ import annotations

import threading
import time

import httpx
from sqlalchemy import Engine

from botbill.engine.announcements import announce_states
from botbill.engine.worker import Worker
from botbill.kit.clock import SystemClock
from botbill.kit.instants import DAY, MINUTE, to_micros
from botbill.settings import Settings
from tests.conftest import Server
from tests.factories import T0, make_workspace
from tests.locks import postgresql_only
from tests.plans.lifecycle import spend
from tests.wallet.accounts import add_funds, funded_app, new_app, tenant
from tests.webhooks.announced import announced, subscribe, types_of
from tests.webhooks.receiver import receiving
from tests.webhooks.test_delivery import announce_order_paid, endpoint, real_now

LOW_BALANCE = 5_000
STATE_TYPES = [
    "entitlement.changed",
    "low_balance",
    "insufficient_funds",
    "plan_expiring",
    "plan_expired",
    "renewal_failed",
    "promo_credits_expiring",
]


def sweep(server: Server) -> int:
    return announce_states(server.engine, server.clock, low_balance=LOW_BALANCE)


def test_a_balance_running_down_and_paid_in_again(server: Server, http: httpx.Client) -> None:
    acme = tenant(server.engine)
    funded_app(http, server.engine, acme, plan="standard", amount=10_000)
    subscribe(http, acme.key, *STATE_TYPES)
    assert sweep(server) == 0, "what holds when first seen is not news"

    server.clock.advance(MINUTE)
    spend(server.engine, acme, 6_000, now=server.clock.now())
    assert sweep(server) == 1
    assert sweep(server) == 0, "announced once"
    server.clock.advance(MINUTE)
    spend(server.engine, acme, 4_000, now=server.clock.now())
    assert sweep(server) == 2
    server.clock.advance(MINUTE)
    assert add_funds(http, key=acme.key, amount=20_000).status_code == 201
    assert sweep(server) == 1

    events = announced(server.engine, acme.workspace_id)
    assert types_of(events) == [
        "low_balance",
        "entitlement.changed",  # in one instant: by type
        "insufficient_funds",
        "entitlement.changed",
    ]
    assert events[0][1] == {
        "workspace_id": acme.workspace_id,
        "app_id": "support-bot",
        "detail": "the balance (USD 40.00) is low",
        "balance": {"amount": 4_000, "currency": "USD"},
    }
    assert events[1][1] == {
        "workspace_id": acme.workspace_id,
        "app_id": "support-bot",
        "active": False,
        "reason": "insufficient_funds",
        "previous_reason": None,
    }
    assert events[2][1]["balance"] == {"amount": 0, "currency": "USD"}
    assert events[3][1]["active"] is True
    assert events[3][1]["previous_reason"] == "insufficient_funds"


def test_time_alone_brings_plan_expiring_then_the_trial_stops(
    server: Server, http: httpx.Client
) -> None:
    acme = tenant(server.engine)
    new_app(http, server.engine, acme, app_id="trial-bot")
    subscribe(http, acme.key, *STATE_TYPES)
    assert sweep(server) == 0
    server.clock.set(to_micros(T0) + 8 * DAY)
    assert sweep(server) == 1
    assert sweep(server) == 0
    server.clock.set(to_micros(T0) + 14 * DAY)
    assert sweep(server) == 2
    assert sweep(server) == 0
    app = {"workspace_id": acme.workspace_id, "app_id": "trial-bot"}
    assert announced(server.engine, acme.workspace_id) == [
        ("plan_expiring", {**app, "detail": "the trial plan ends on 2026-12-10"}),
        (
            "entitlement.changed",
            {**app, "active": False, "reason": "trial_expired", "previous_reason": None},
        ),
        ("plan_expired", {**app, "detail": "the trial plan ended on 2026-12-10"}),
    ]


def test_workspaces_without_a_listening_endpoint_are_not_swept(
    server: Server, http: httpx.Client
) -> None:
    acme = tenant(server.engine)
    funded_app(http, server.engine, acme, plan="standard", amount=10_000)
    subscribe(http, acme.key, "order.paid")
    sweep(server)
    spend(server.engine, acme, 20_000, now=server.clock.now())
    assert sweep(server) == 0
    assert announced(server.engine, acme.workspace_id) == []


def test_the_worker_delivers_in_its_own_thread(db: Engine) -> None:
    now = real_now()
    workspace_id, _ = make_workspace(db)
    settings = Settings(environment="test", webhook_poll_seconds=0.05)
    with receiving() as receiver:
        _, secret = endpoint(db, workspace_id, receiver.url, now=now)
        announce_order_paid(db, workspace_id, now=now)
        worker = Worker(db, SystemClock(), settings)
        worker.start()
        try:
            deadline = time.monotonic() + 30
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            worker.stop()
    [got] = receiver.received
    assert got.verified(secret)["type"] == "order.paid"


@postgresql_only
def test_two_sweepers_racing_announce_a_change_once(server: Server, http: httpx.Client) -> None:
    acme = tenant(server.engine)
    funded_app(http, server.engine, acme, plan="standard", amount=10_000)
    subscribe(http, acme.key, *STATE_TYPES)
    sweep(server)
    server.clock.advance(MINUTE)
    spend(server.engine, acme, 6_000, now=server.clock.now())
    barrier = threading.Barrier(4)
    counts: list[int] = []

    def sweeper() -> None:
        barrier.wait()
        counts.append(sweep(server))

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(counts) == [0, 0, 0, 1]
    assert types_of(announced(server.engine, acme.workspace_id)) == ["low_balance"]
