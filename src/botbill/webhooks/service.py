"""Webhook endpoints (admins) and their deliveries: the work behind the routes.

Services flush; the caller commits. Every change is recorded in the audit log, never
with a secret in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from botbill.audit.service import Action, Actor, record, target
from botbill.kit.ids import new_id
from botbill.kit.instants import Micros
from botbill.kit.problems import Conflict, Invalid, NotFound
from botbill.webhooks.events import EventType
from botbill.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from botbill.webhooks.outbox import queued
from botbill.webhooks.signing import new_secret
from botbill.webhooks.urls import url_refusal


def _checked_url(url: str, *, production: bool) -> str:
    refusal = url_refusal(url, production=production)
    if refusal is not None:
        raise Invalid.at(["body", "url"], f"url {refusal}")
    return url


def _fields(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """What the audit log shows of an endpoint (never its secret)."""
    return {
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "description": endpoint.description,
        "enabled": endpoint.enabled,
    }


def _audit(
    session: Session,
    endpoint: WebhookEndpoint,
    action: Action,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    actor: Actor,
    now: Micros,
) -> None:
    record(
        session,
        workspace_id=endpoint.workspace_id,
        actor=actor,
        action=action,
        target=target("webhook_endpoint", endpoint.id),
        before=before,
        after=after,
        now=now,
    )


def create_endpoint(
    session: Session,
    workspace_id: str,
    *,
    url: str,
    event_types: Sequence[EventType],
    description: str,
    production: bool,
    actor: Actor,
    now: Micros,
) -> WebhookEndpoint:
    """A new enabled endpoint with a fresh secret (the caller shows it once)."""
    endpoint = WebhookEndpoint(
        id=new_id("we"),
        workspace_id=workspace_id,
        url=_checked_url(url, production=production),
        description=description,
        event_types=[t.value for t in event_types],
        secret=new_secret(),
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    _audit(
        session,
        endpoint,
        Action.WEBHOOK_ENDPOINT_CREATED,
        before=None,
        after=_fields(endpoint),
        actor=actor,
        now=now,
    )
    return endpoint


def get_endpoint(
    session: Session, workspace_id: str, endpoint_id: str, *, lock: bool = False
) -> WebhookEndpoint:
    """One of the workspace's endpoints; another workspace's is as unknown as none."""
    if "\x00" in endpoint_id:  # no stored id has one; PostgreSQL refuses it in text
        raise NotFound(f"no webhook endpoint {endpoint_id!r}")
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, WebhookEndpoint.workspace_id == workspace_id
    )
    endpoint = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if endpoint is None:
        raise NotFound(f"no webhook endpoint {endpoint_id!r}")
    return endpoint


def list_endpoints(
    session: Session, workspace_id: str, *, after: tuple[int, str] | None, limit: int
) -> list[WebhookEndpoint]:
    """Newest first; ``after`` is the ``(created_at, id)`` of the last one seen."""
    query = select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace_id)
    if after is not None:
        query = query.where(tuple_(WebhookEndpoint.created_at, WebhookEndpoint.id) < after)
    order = (WebhookEndpoint.created_at.desc(), WebhookEndpoint.id.desc())
    return list(session.scalars(query.order_by(*order).limit(limit)))


def update_endpoint(
    session: Session,
    workspace_id: str,
    endpoint_id: str,
    *,
    url: str | None,
    event_types: Sequence[EventType] | None,
    description: str | None,
    enabled: bool | None,
    production: bool,
    actor: Actor,
    now: Micros,
) -> WebhookEndpoint:
    """Change the fields given (``None``: unchanged); an unchanged endpoint records
    nothing."""
    endpoint = get_endpoint(session, workspace_id, endpoint_id, lock=True)
    before = _fields(endpoint)
    if url is not None:
        endpoint.url = _checked_url(url, production=production)
    if event_types is not None:
        endpoint.event_types = [t.value for t in event_types]
    if description is not None:
        endpoint.description = description
    if enabled is not None:
        endpoint.enabled = enabled
    after = _fields(endpoint)
    if after == before:
        return endpoint
    endpoint.updated_at = now
    session.flush()
    changed = [name for name in after if after[name] != before[name]]
    _audit(
        session,
        endpoint,
        Action.WEBHOOK_ENDPOINT_UPDATED,
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
        actor=actor,
        now=now,
    )
    return endpoint


def delete_endpoint(
    session: Session, workspace_id: str, endpoint_id: str, *, actor: Actor, now: Micros
) -> None:
    """The endpoint and its deliveries go; nothing more is sent to it."""
    endpoint = get_endpoint(session, workspace_id, endpoint_id, lock=True)
    _audit(
        session,
        endpoint,
        Action.WEBHOOK_ENDPOINT_DELETED,
        before=_fields(endpoint),
        after=None,
        actor=actor,
        now=now,
    )
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    session.delete(endpoint)
    session.flush()


def rotate_secret(
    session: Session, workspace_id: str, endpoint_id: str, *, actor: Actor, now: Micros
) -> WebhookEndpoint:
    """A new secret signs every attempt from now on, retries of older events included."""
    endpoint = get_endpoint(session, workspace_id, endpoint_id, lock=True)
    endpoint.secret = new_secret()
    endpoint.updated_at = now
    session.flush()
    _audit(
        session,
        endpoint,
        Action.WEBHOOK_SECRET_ROTATED,
        before=None,
        after=None,
        actor=actor,
        now=now,
    )
    return endpoint


def list_deliveries(
    session: Session,
    workspace_id: str,
    endpoint_id: str,
    *,
    after: tuple[int, str] | None,
    limit: int,
) -> list[tuple[WebhookDelivery, str]]:
    """An endpoint's deliveries with their event types, newest first."""
    get_endpoint(session, workspace_id, endpoint_id)
    query = (
        select(WebhookDelivery, WebhookEvent.type)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
    )
    if after is not None:
        query = query.where(tuple_(WebhookDelivery.created_at, WebhookDelivery.id) < after)
    order = (WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    return [(d, t) for d, t in session.execute(query.order_by(*order).limit(limit))]


def retry_delivery(
    session: Session, workspace_id: str, delivery_id: str, *, actor: Actor, now: Micros
) -> tuple[WebhookDelivery, str]:
    """Replay a delivery: a new delivery of the same event (same ``webhook-id``) to the
    same endpoint, due at once with a schedule of its own; the old one keeps its
    history."""
    if "\x00" in delivery_id:
        raise NotFound(f"no webhook delivery {delivery_id!r}")
    found = session.execute(
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.workspace_id == workspace_id)
    ).one_or_none()
    if found is None:
        raise NotFound(f"no webhook delivery {delivery_id!r}")
    old, event = found
    endpoint = get_endpoint(session, workspace_id, old.endpoint_id)
    if not endpoint.enabled:
        raise Conflict(f"webhook endpoint {endpoint.id!r} is disabled; enable it first")
    replay = queued(event, endpoint.id, now=now)
    session.add(replay)
    session.flush()
    record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action=Action.WEBHOOK_DELIVERY_RETRIED,
        target=target("webhook_delivery", old.id),
        before=None,
        after={"delivery_id": replay.id, "event_id": event.id, "endpoint_id": endpoint.id},
        now=now,
    )
    return replay, event.type
