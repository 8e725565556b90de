"""Factories and snapshots for the subscription-lifecycle tests (renewal, cancel,
auto-reload): the settings endpoint, the job run by hand, money moved in and out."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine, select, update

from botbill.engine.lifecycle import LifecycleCounts, run_lifecycle
from botbill.kit.db import unit_of_work
from botbill.ledger.balances import balance_of, book
from botbill.ledger.entries import EntryKind
from botbill.ledger.models import LedgerEntry
from botbill.orders.models import Order
from botbill.orders.providers import TestCardProvider
from botbill.plans.models import Subscription
from tests.conftest import Server
from tests.factories import auth
from tests.wallet.accounts import Tenant


def settings(
    http: httpx.Client, who: Tenant, app_id: str = "support-bot", **body: Any
) -> httpx.Response:
    """``PATCH /v1/apps/{app_id}/subscription``."""
    return http.patch(f"/v1/apps/{app_id}/subscription", json=body, headers=auth(who.key))


def reload_on(
    http: httpx.Client,
    who: Tenant,
    app_id: str = "support-bot",
    *,
    threshold: int,
    amount: int = 10_000,
) -> dict[str, Any]:
    response = settings(
        http,
        who,
        app_id,
        auto_reload={"enabled": True, "threshold": threshold, "amount": amount},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def cancel(http: httpx.Client, who: Tenant, app_id: str = "support-bot") -> httpx.Response:
    return http.post(f"/v1/apps/{app_id}/subscription/cancel", headers=auth(who.key))


def run(server: Server) -> LifecycleCounts:
    """One lifecycle run at the server's clock, with the test card provider."""
    counts = run_lifecycle(server.engine, server.clock, cards=TestCardProvider())
    assert counts.errors == 0
    return counts


def orders_of(engine: Engine, who: Tenant, app_id: str = "support-bot") -> list[tuple[Any, ...]]:
    """``(kind, amount, payment_method, payment_status)`` of the app's orders, oldest first."""
    with unit_of_work(engine, write=False) as session:
        rows = session.scalars(
            select(Order)
            .where(Order.workspace_id == who.workspace_id, Order.app_id == app_id)
            .order_by(Order.created_at, Order.kind)
        )
        return [(o.kind, o.amount, o.payment_method, o.payment_status) for o in rows]


def ledger_kinds(engine: Engine, who: Tenant, app_id: str = "support-bot") -> list[str]:
    with unit_of_work(engine, write=False) as session:
        return list(
            session.scalars(
                select(LedgerEntry.kind)
                .where(LedgerEntry.workspace_id == who.workspace_id, LedgerEntry.app_id == app_id)
                .order_by(LedgerEntry.id)
            )
        )


def booked_balance(engine: Engine, who: Tenant, app_id: str = "support-bot", *, now: int) -> int:
    """The balance read straight from the ledger (no read path brings anything current)."""
    with unit_of_work(engine, write=False) as session:
        return balance_of(session, who.workspace_id, app_id, now)


def spend(
    engine: Engine, who: Tenant, amount: int, *, now: int, app_id: str = "support-bot"
) -> None:
    """Usage charged to the app, as rating books it: one ``usage`` entry."""
    with unit_of_work(engine, write=True) as session:
        book(
            session,
            workspace_id=who.workspace_id,
            app_id=app_id,
            currency="USD",
            kind=EntryKind.USAGE,
            amount=-amount,
            at=now,
            reference="rating",
        )


def card_now_declines(engine: Engine, who: Tenant, app_id: str = "support-bot") -> None:
    """The saved card stops paying (expired, blocked): the provider now declines it."""
    with unit_of_work(engine, write=True) as session:
        session.execute(
            update(Subscription)
            .where(Subscription.workspace_id == who.workspace_id, Subscription.app_id == app_id)
            .values(saved_card_token=TestCardProvider.DECLINED)
        )
