"""Announcing a change: one event row and one delivery per subscribed endpoint, added to
the caller's transaction, so that what is announced commits or rolls back with the change
itself (nothing announced that did not happen, nothing that happened lost)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.kit.ids import new_id
from botbill.kit.instants import Micros
from botbill.webhooks.events import EventType
from botbill.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"


def announce(
    session: Session,
    *,
    workspace_id: str,
    type: EventType,
    data: Mapping[str, Any],
    now: Micros,
) -> WebhookEvent | None:
    """Queue ``type`` with ``data`` for every enabled endpoint of the workspace that asked
    for it; nothing is written when none did. ``data`` names what changed (an order id,
    an invoice id, an app id) so that a delivery can be traced to its change."""
    endpoints = [
        endpoint
        for endpoint in session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.workspace_id == workspace_id,
                WebhookEndpoint.enabled.is_(True),
            )
        )
        if type.value in endpoint.event_types
    ]
    if not endpoints:
        return None
    event = WebhookEvent(
        id=new_id("msg"),
        workspace_id=workspace_id,
        type=type.value,
        occurred_at=now,
        data={"workspace_id": workspace_id, **_as_json(data)},
    )
    session.add(event)
    session.flush()
    for endpoint in endpoints:
        session.add(queued(event, endpoint.id, now=now))
    session.flush()
    return event


def queued(event: WebhookEvent, endpoint_id: str, *, now: Micros) -> WebhookDelivery:
    """A new delivery of ``event`` to an endpoint, due at once."""
    return WebhookDelivery(
        id=new_id("dlv"),
        workspace_id=event.workspace_id,
        endpoint_id=endpoint_id,
        event_id=event.id,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        claim=None,
        last_attempt_at=None,
        last_status_code=None,
        last_error=None,
        created_at=now,
    )


def _as_json(value: Mapping[str, Any]) -> dict[str, Any]:
    """The data exactly as it will read back (datetimes as RFC 3339 text)."""
    loaded: dict[str, Any] = orjson.loads(orjson.dumps(dict(value), option=orjson.OPT_UTC_Z))
    return loaded
