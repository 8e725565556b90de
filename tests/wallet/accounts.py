"""Keyword-only factories and snapshots for the plans, wallet and orders tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import Engine, select, update

from botbill.auth.service import create_operator_key
from botbill.engine.lifecycle import run_lifecycle
from botbill.kit.db import unit_of_work
from botbill.kit.instants import to_micros
from botbill.ledger.models import LedgerEntry
from botbill.orders.models import IdempotencyRecord, Order
from botbill.orders.providers import TestCardProvider
from botbill.plans.models import Subscription, SubscriptionPeriod
from botbill.rating.models import UsageCharge
from botbill.workspaces.models import Workspace
from tests.conftest import Server
from tests.factories import T0, auth, make_app, make_workspace


@dataclass(frozen=True)
class Tenant:
    workspace_id: str
    key: str


def tenant(engine: Engine, **fields: Any) -> Tenant:
    return Tenant(*make_workspace(engine, **fields))


def make_enterprise(engine: Engine, workspace_id: str) -> None:
    """What an operator's account-type change will do (not an endpoint yet)."""
    with unit_of_work(engine, write=True) as session:
        session.execute(
            update(Workspace).where(Workspace.id == workspace_id).values(account_type="enterprise")
        )


def operator_key(engine: Engine) -> str:
    with unit_of_work(engine, write=True) as session:
        return create_operator_key(session, name="ops", now=to_micros(T0))[1]


def add_funds(
    http: httpx.Client,
    *,
    key: str,
    app_id: str = "support-bot",
    amount: int = 25_000,
    method: str = "card",
    token: str | None = "tok_ok",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"amount": amount, "payment_method": method}
    if token is not None:
        body["token"] = token
    return http.post(
        f"/v1/apps/{app_id}/funds", json=body, headers={**auth(key), **(headers or {})}
    )


def new_app(
    http: httpx.Client, engine: Engine, who: Tenant, *, app_id: str = "support-bot", **fields: Any
) -> dict[str, Any]:
    """``POST /v1/apps``; the app's subscription starts with it."""
    app = make_app(http, key=who.key, app_id=app_id, **fields)
    with unit_of_work(engine, write=False) as session:
        assert session.get(Subscription, (who.workspace_id, app_id)) is not None
    return app


def funded_app(
    http: httpx.Client,
    engine: Engine,
    who: Tenant,
    *,
    app_id: str = "support-bot",
    plan: str,
    amount: int = 0,
) -> dict[str, Any]:
    """An app on ``plan`` whose balance got ``amount`` by card (after its first fee)."""
    app = new_app(http, engine, who, app_id=app_id, plan=plan)
    if amount:
        response = add_funds(http, key=who.key, app_id=app_id, amount=amount)
        assert response.status_code == 201, response.text
    return app


def subscription(http: httpx.Client, *, key: str, app_id: str = "support-bot") -> dict[str, Any]:
    response = http.get(f"/v1/apps/{app_id}/subscription", headers=auth(key))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def entitlement(http: httpx.Client, *, key: str, app_id: str = "support-bot") -> dict[str, Any]:
    """The answer without its ``as_of``, which must be an instant with an offset."""
    response = http.get(f"/v1/apps/{app_id}/entitlement", headers=auth(key))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    assert datetime.fromisoformat(result.pop("as_of")).tzinfo is not None
    return result


def money_state(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row that holds money or plan state, to prove a refused request changed nothing."""
    tables: dict[str, Any] = {
        "orders": Order,
        "ledger_entries": LedgerEntry,
        "subscriptions": Subscription,
        "subscription_periods": SubscriptionPeriod,
        "usage_charges": UsageCharge,
        "idempotency_keys": IdempotencyRecord,
    }
    state: dict[str, list[tuple[Any, ...]]] = {}
    with unit_of_work(engine, write=False) as session:
        for name, model in tables.items():
            columns = list(model.__table__.columns)
            rows = session.execute(select(*columns).order_by(*columns[:2])).all()
            state[name] = [tuple(row) for row in rows]
    return state


def balance_of(http: httpx.Client, *, key: str, app_id: str = "support-bot") -> int:
    amount: int = subscription(http, key=key, app_id=app_id)["balance"]["amount"]
    return amount


def time_passes(server: Server, by: int) -> None:
    """The clock moves on, and the lifecycle job runs as the server's would within its
    interval: renewals, expiries, lapses and auto-reloads that came due happen."""
    server.clock.advance(by)
    run_lifecycle(server.engine, server.clock, cards=TestCardProvider())
