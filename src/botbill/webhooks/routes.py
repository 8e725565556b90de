"""HTTP routes of the webhooks package (admin key): endpoints, their deliveries, replays."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from botbill.audit.service import Actor
from botbill.auth.dependencies import Admin
from botbill.kit.pagination import CursorQuery, LimitQuery, Page, cut_page, decode_cursor
from botbill.kit.problems import Invalid
from botbill.kit.web import ClockDep, ReadSession, WriteSession
from botbill.settings import Settings
from botbill.webhooks import service
from botbill.webhooks.schemas import (
    DeliveryOut,
    EndpointCreate,
    EndpointOut,
    EndpointUpdate,
    EndpointWithSecret,
    SecretOut,
    delivery_out,
    endpoint_out,
    endpoint_with_secret,
)

router = APIRouter(tags=["webhooks"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such endpoint in this workspace"}
}


async def _production(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return settings.environment == "production"


Production = Annotated[bool, Depends(_production)]


def _after(cursor: str | None) -> tuple[int, str] | None:
    position = decode_cursor(cursor, arity=2)
    if position is None:
        return None
    at, ident = position
    if type(at) is not int or not -(2**63) <= at < 2**63 or not isinstance(ident, str):
        raise Invalid.at(["query", "cursor"], "not a cursor this API issued")
    return at, ident


@router.post("/v1/webhook-endpoints", status_code=status.HTTP_201_CREATED)
def create_webhook_endpoint(
    body: EndpointCreate,
    caller: Admin,
    session: WriteSession,
    clock: ClockDep,
    production: Production,
) -> EndpointWithSecret:
    """Register an endpoint for the event types given (admin key). The answer carries
    the signing `secret`, shown only this once."""
    endpoint = service.create_endpoint(
        session,
        caller.workspace_id,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        production=production,
        actor=Actor.admin(caller.key_id),
        now=clock.now(),
    )
    return endpoint_with_secret(endpoint)


@router.get("/v1/webhook-endpoints")
def list_webhook_endpoints(
    caller: Admin, session: ReadSession, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[EndpointOut]:
    """The workspace's endpoints, newest first (never their secrets)."""
    endpoints = service.list_endpoints(
        session, caller.workspace_id, after=_after(cursor), limit=limit + 1
    )
    page, next_cursor = cut_page(endpoints, limit, lambda e: [e.created_at, e.id])
    return Page(items=[endpoint_out(e) for e in page], next_cursor=next_cursor)


@router.get("/v1/webhook-endpoints/{endpoint_id}", responses=NOT_FOUND)
def get_webhook_endpoint(endpoint_id: str, caller: Admin, session: ReadSession) -> EndpointOut:
    return endpoint_out(service.get_endpoint(session, caller.workspace_id, endpoint_id))


@router.patch("/v1/webhook-endpoints/{endpoint_id}", responses=NOT_FOUND)
def update_webhook_endpoint(
    endpoint_id: str,
    body: EndpointUpdate,
    caller: Admin,
    session: WriteSession,
    clock: ClockDep,
    production: Production,
) -> EndpointOut:
    """Change `url`, `event_types`, `description` or `enabled`; fields left out stay."""
    endpoint = service.update_endpoint(
        session,
        caller.workspace_id,
        endpoint_id,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        enabled=body.enabled,
        production=production,
        actor=Actor.admin(caller.key_id),
        now=clock.now(),
    )
    return endpoint_out(endpoint)


@router.delete(
    "/v1/webhook-endpoints/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=NOT_FOUND,
)
def delete_webhook_endpoint(
    endpoint_id: str, caller: Admin, session: WriteSession, clock: ClockDep
) -> None:
    """Remove the endpoint and its deliveries; nothing more is sent to it."""
    service.delete_endpoint(
        session,
        caller.workspace_id,
        endpoint_id,
        actor=Actor.admin(caller.key_id),
        now=clock.now(),
    )


@router.post("/v1/webhook-endpoints/{endpoint_id}/rotate-secret", responses=NOT_FOUND)
def rotate_webhook_secret(
    endpoint_id: str, caller: Admin, session: WriteSession, clock: ClockDep
) -> SecretOut:
    """A new signing secret, shown only now; every attempt from now on is signed with it."""
    endpoint = service.rotate_secret(
        session,
        caller.workspace_id,
        endpoint_id,
        actor=Actor.admin(caller.key_id),
        now=clock.now(),
    )
    return SecretOut(id=endpoint.id, secret=endpoint.secret)


@router.get("/v1/webhook-endpoints/{endpoint_id}/deliveries", responses=NOT_FOUND)
def list_webhook_deliveries(
    endpoint_id: str,
    caller: Admin,
    session: ReadSession,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[DeliveryOut]:
    """The endpoint's deliveries, newest first: status, attempts, last response code."""
    rows = service.list_deliveries(
        session, caller.workspace_id, endpoint_id, after=_after(cursor), limit=limit + 1
    )
    page, next_cursor = cut_page(rows, limit, lambda row: [row[0].created_at, row[0].id])
    return Page(items=[delivery_out(d, t) for d, t in page], next_cursor=next_cursor)


@router.post(
    "/v1/webhook-deliveries/{delivery_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        404: {"description": "No such delivery in this workspace"},
        409: {"description": "The endpoint is disabled"},
    },
)
def retry_webhook_delivery(
    delivery_id: str, caller: Admin, session: WriteSession, clock: ClockDep
) -> DeliveryOut:
    """Send the delivery's event again: a new delivery, due at once, with the same
    `webhook-id` (so a receiver that already has it can tell)."""
    replay, event_type = service.retry_delivery(
        session,
        caller.workspace_id,
        delivery_id,
        actor=Actor.admin(caller.key_id),
        now=clock.now(),
    )
    return delivery_out(replay, event_type)
