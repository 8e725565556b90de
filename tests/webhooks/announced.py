"""Factories for the webhook tests: an endpoint over HTTP, and what was announced."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine, select

from botbill.kit.db import unit_of_work
from botbill.webhooks.models import WebhookEvent
from tests.factories import auth


def subscribe(http: httpx.Client, key: str, *types: str, url: str | None = None) -> dict[str, Any]:
    """An endpoint for ``types``; the answer carries its secret."""
    body = {"url": url or "https://hooks.example.com/botbill", "event_types": list(types)}
    response = http.post("/v1/webhook-endpoints", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def announced(engine: Engine, workspace_id: str) -> list[tuple[str, dict[str, Any]]]:
    """``(type, data)`` of every event announced to the workspace, in time order (by type
    within one instant)."""
    with unit_of_work(engine, write=False) as session:
        events = session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.workspace_id == workspace_id)
            .order_by(WebhookEvent.occurred_at, WebhookEvent.type)
        )
        return [(e.type, e.data) for e in events]


def types_of(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [kind for kind, _ in events]
