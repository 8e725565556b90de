"""Keyword-only factories for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine

from botbill.kit.db import unit_of_work
from botbill.kit.instants import to_micros
from botbill.workspaces.keys import Scope
from botbill.workspaces.service import create_key, create_workspace, get_workspace

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
"""The tests' "now" unless a test moves the clock."""


def make_workspace(
    engine: Engine, *, name: str = "Acme", timezone: str = "UTC", currency: str = "USD"
) -> tuple[str, str]:
    """A workspace and its admin key's secret."""
    with unit_of_work(engine, write=True) as session:
        workspace, issued = create_workspace(
            session, name=name, timezone=timezone, currency=currency, now=to_micros(T0)
        )
        return workspace.id, issued.secret


def make_key(engine: Engine, *, workspace_id: str, scopes: list[Scope]) -> str:
    with unit_of_work(engine, write=True) as session:
        workspace = get_workspace(session, workspace_id)
        return create_key(
            session, workspace=workspace, name="test", scopes=scopes, now=to_micros(T0)
        ).secret


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def make_app(
    http: httpx.Client, *, key: str, app_id: str = "support-bot", **fields: Any
) -> dict[str, Any]:
    body = {"id": app_id, "name": fields.pop("name", app_id.replace("-", " ").title()), **fields}
    response = http.post("/v1/apps", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


_counter = iter(range(1, 10**9))


def event(
    kind: str,
    *,
    at: datetime,
    app: str = "support-bot",
    source: str = "runtime",
    id: str | None = None,
    **data: Any,
) -> dict[str, Any]:
    """A CloudEvent as the runtime would send it."""
    return {
        "specversion": "1.0",
        "id": id or f"evt-{next(_counter)}",
        "source": source,
        "type": kind,
        "time": at.isoformat().replace("+00:00", "Z"),
        "subject": app,
        "data": data,
    }


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
