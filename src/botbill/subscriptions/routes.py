from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from botbill.audit.service import Actor
from botbill.auth.dependencies import Admin, Reader
from botbill.kit.db import unit_of_work
from botbill.kit.instants import from_micros
from botbill.kit.pagination import CursorQuery, LimitQuery, Page, decode_cursor
from botbill.kit.web import ClockDep, EngineDep
from botbill.orders import idempotency
from botbill.orders.web import CardsDep, IdempotencyKey, SettingsDep, reply_response
from botbill.subscriptions import service
from botbill.subscriptions.entitlement import Reason
from botbill.subscriptions.schemas import (
    PlanChangeOut,
    PlanChangeRequest,
    SubscriptionDetail,
    SubscriptionSettings,
    SubscriptionSummary,
)

router = APIRouter(tags=["subscriptions"])


@router.get("/v1/subscriptions")
def list_subscriptions(
    caller: Reader,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[SubscriptionSummary]:
    """The Plan list: every app's plan, status, balance, period end and notices."""
    position = decode_cursor(cursor, arity=1)
    page = service.plan_list(
        engine,
        clock,
        workspace_id=caller.workspace_id,
        after=str(position[0]) if position else None,
        limit=limit,
        low_balance=settings.low_balance_threshold,
    )
    return Page(items=page.items, next_cursor=page.next_cursor)


@router.get("/v1/apps/{app_id}/subscription")
def get_subscription(
    app_id: str, caller: Reader, engine: EngineDep, clock: ClockDep, settings: SettingsDep
) -> SubscriptionDetail:
    """Plan and usage details: the Plan list's fields, this period's allowance and use."""
    return service.subscription_detail(
        engine,
        clock,
        workspace_id=caller.workspace_id,
        app_id=app_id,
        low_balance=settings.low_balance_threshold,
    )


class EntitlementOut(BaseModel):
    active: bool
    reason: Reason | None = None
    as_of: datetime = Field(
        description="Usage and charges behind the answer are settled up to this instant "
        "(a few seconds behind at most); the clock-only rules are exact now."
    )


@router.get(
    "/v1/apps/{app_id}/entitlement",
    response_model=EntitlementOut,
    response_model_exclude_none=True,
)
def entitlement(app_id: str, caller: Reader, engine: EngineDep, clock: ClockDep) -> EntitlementOut:
    """May this app answer now? ``{"active": true, "as_of"}`` or ``{"active": false,
    "reason", "as_of"}``. It never waits on metering or rating: ``as_of`` says up to which
    instant the usage behind the answer was settled."""
    answer = service.entitlement(engine, clock, workspace_id=caller.workspace_id, app_id=app_id)
    return EntitlementOut(
        active=answer.decision.active,
        reason=answer.decision.reason,
        as_of=from_micros(answer.as_of),
    )


@router.post(
    "/v1/apps/{app_id}/subscription/change",
    response_model=PlanChangeOut,
    responses={
        202: {"model": PlanChangeOut, "description": "A downgrade, scheduled for period end"},
        402: {"description": "Neither the payment method nor the balance pays the fee"},
        409: {"description": "The app is already on this plan"},
    },
)
def change_plan(
    app_id: str,
    body: PlanChangeRequest,
    request: Request,
    caller: Admin,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    cards: CardsDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Upgrade at once (with its order), or schedule a downgrade for the period's end."""
    with unit_of_work(engine, write=True) as session:
        reply = service.change_plan(
            session,
            workspace_id=caller.workspace_id,
            app_id=app_id,
            change=body,
            actor=Actor.admin(caller.key_id),
            request=idempotency.request_of(key, "POST", request.url.path, body.model_dump()),
            cards=cards,
            low_balance=settings.low_balance_threshold,
            now=clock.now(),
        )
    return reply_response(reply)


@router.delete("/v1/apps/{app_id}/subscription/scheduled-change")
def withdraw_scheduled_change(
    app_id: str,
    caller: Admin,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    cards: CardsDep,
) -> SubscriptionDetail:
    """Withdraw a scheduled downgrade: the plan renews as it is."""
    with unit_of_work(engine, write=True) as session:
        return service.withdraw_scheduled_change(
            session,
            workspace_id=caller.workspace_id,
            app_id=app_id,
            actor=Actor.admin(caller.key_id),
            cards=cards,
            low_balance=settings.low_balance_threshold,
            now=clock.now(),
        )


@router.patch(
    "/v1/apps/{app_id}/subscription",
    responses={
        403: {"description": "An enterprise workspace (its subscriptions are a contract)"},
        409: {"description": "The subscription is cancelled, or auto-reload has no saved card"},
    },
)
def update_subscription(
    app_id: str,
    body: SubscriptionSettings,
    caller: Admin,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    cards: CardsDep,
) -> SubscriptionDetail:
    """Renewal on or off, and auto-reload; fields left out keep their values.

    - ``renew: false``: a fee plan is not renewed; it shows ``plan_expiring`` 7 days
      ahead and expires at the period's end.
    - ``auto_reload``: when the balance falls below ``threshold``, an add-funds order of
      ``amount`` is charged to the app's saved card (the last card that paid), once per
      dip below the threshold. Turning it on needs a saved card (409 without one).
    """
    with unit_of_work(engine, write=True) as session:
        return service.update_settings(
            session,
            workspace_id=caller.workspace_id,
            app_id=app_id,
            settings=body,
            actor=Actor.admin(caller.key_id),
            cards=cards,
            funds_limits=(settings.funds_min_amount, settings.funds_max_amount),
            low_balance=settings.low_balance_threshold,
            now=clock.now(),
        )


@router.post(
    "/v1/apps/{app_id}/subscription/cancel",
    responses={
        403: {"description": "An enterprise workspace (its subscriptions are a contract)"},
        409: {"description": "The subscription is already cancelled"},
    },
)
def cancel_subscription(
    app_id: str,
    caller: Admin,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    cards: CardsDep,
) -> SubscriptionDetail:
    """Cancel the app's subscription at once: its entitlement is refused (``cancelled``).

    Nothing is refunded (the running fee stays paid, the balance stays with the app),
    periods stop rolling and auto-reload stops. The app comes back only through a plan
    change (``POST /v1/apps/{app_id}/subscription/change``), which applies at once.
    """
    with unit_of_work(engine, write=True) as session:
        return service.cancel(
            session,
            workspace_id=caller.workspace_id,
            app_id=app_id,
            actor=Actor.admin(caller.key_id),
            cards=cards,
            low_balance=settings.low_balance_threshold,
            now=clock.now(),
        )
