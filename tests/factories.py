"""Keyword-only factories for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine, select

from botbill.events.models import Event
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


def send_events(
    http: httpx.Client,
    *,
    key: str,
    body: Any,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST /v1/events with ``body`` serialized as JSON (bytes are sent as they are)."""
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return http.post(
        "/v1/events",
        content=content,
        headers={**auth(key), "content-type": content_type, **(headers or {})},
    )


def make_member(
    http: httpx.Client, *, key: str, email: str, role: str = "admin", name: str | None = None
) -> dict[str, Any]:
    body = {"email": email, "name": name or email.split("@", 1)[0].title(), "role": role}
    response = http.post("/v1/members", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def stored_events(engine: Engine) -> list[Event]:
    """Every raw event in the database, in arrival order."""
    with unit_of_work(engine, write=False) as session:
        return list(session.scalars(select(Event).order_by(Event.seq)))


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem+json body of an error response, after checking its status and shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def error_locs(body: dict[str, Any]) -> list[list[str | int]]:
    """The ``loc`` of every entry of a problem's ``errors``."""
    return [error["loc"] for error in body.get("errors", [])]
