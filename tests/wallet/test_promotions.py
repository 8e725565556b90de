"""Promotional credits end to end: spent first, shown before they lapse, lapsing at expiry."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import Engine, select

from botbill.audit.service import Actor
from botbill.engine.lifecycle import run_lifecycle
from botbill.kit.db import unit_of_work
from botbill.kit.instants import DAY, MINUTE, to_micros
from botbill.ledger.models import LedgerEntry
from botbill.orders.providers import TestCardProvider
from botbill.plans.catalog import ChargeType
from botbill.rating.charges import UsageCharge, rate
from botbill.wallet.service import grant_promotion
from botbill.workspaces.service import get_workspace
from tests.conftest import Server
from tests.factories import T0, run_botbill
from tests.wallet.accounts import Tenant, funded_app, subscription, tenant

NOW = to_micros(T0)


def grant(engine: Engine, who: Tenant, *, amount: int, days: int) -> None:
    with unit_of_work(engine, write=True) as session:
        grant_promotion(
            session,
            get_workspace(session, who.workspace_id),
            "support-bot",
            amount=amount,
            expires_at=NOW + days * DAY,
            reason="welcome",
            actor=Actor.operator("test"),
            cards=TestCardProvider(),
            now=NOW,
        )


def use(engine: Engine, who: Tenant, sessions: range, *, now: int) -> None:
    charges = [UsageCharge(i, "support-bot", ChargeType.USAGE, now - MINUTE, 1) for i in sessions]
    with unit_of_work(engine, write=True) as session:
        rate(
            session,
            workspace_id=who.workspace_id,
            charges=charges,
            now=now,
        )


def kinds(engine: Engine) -> list[tuple[str, int]]:
    with unit_of_work(engine, write=False) as session:
        rows = session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))
        return [(row.kind, row.amount) for row in rows]


def test_a_promotion_is_spent_first_and_its_rest_lapses(server: Server, http: httpx.Client) -> None:
    who = tenant(server.engine)
    funded_app(http, server.engine, who, plan="standard", amount=10_000)
    grant(server.engine, who, amount=2_000, days=10)
    use(server.engine, who, range(1, 51), now=NOW + DAY)  # 50 x 20 = 1,000, from the promotion
    server.clock.set(NOW + 2 * DAY)
    detail = subscription(http, key=who.key)
    assert detail["balance"]["amount"] == 11_000
    assert detail["notices"] == []
    server.clock.set(NOW + 8 * DAY)
    detail = subscription(http, key=who.key)
    assert detail["notices"] == [
        {
            "type": "promo_credits_expiring",
            "detail": "USD 10.00 of promotional credit expires on 2026-12-06",
        }
    ]
    server.clock.set(NOW + 10 * DAY)
    assert subscription(http, key=who.key)["balance"]["amount"] == 10_000  # shown at once
    run_lifecycle(server.engine, server.clock, cards=TestCardProvider())  # and booked
    assert subscription(http, key=who.key)["balance"]["amount"] == 10_000
    assert kinds(server.engine) == [
        ("funds", 10_000),
        ("promo_grant", 2_000),
        ("usage", -1_000),
        ("promo_lapse", -1_000),
    ]


def test_operators_grant_from_the_command_line(
    server: Server, http: httpx.Client, database_url: str
) -> None:
    who = tenant(server.engine)
    funded_app(http, server.engine, who, plan="standard")
    result = run_botbill(
        "operator",
        "credit",
        "grant",
        f"--workspace={who.workspace_id}",
        "--app=support-bot",
        "--amount=5000",
        "--days=30",
        database_url=database_url,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["amount"] == 5_000
    assert subscription(http, key=who.key)["balance"]["amount"] == 5_000
    refused = run_botbill(
        "operator",
        "credit",
        "grant",
        f"--workspace={who.workspace_id}",
        "--app=no-such-bot",
        "--amount=5000",
        database_url=database_url,
    )
    assert refused.returncode == 2
    assert "no app" in refused.stderr
