from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from botbill.apps.service import get_app
from botbill.audit.service import Action, Actor, record, target
from botbill.kit.db import unit_of_work
from botbill.kit.web import ClockDep, EngineDep
from botbill.orders import idempotency
from botbill.orders.providers import PaymentMethod
from botbill.orders.schemas import FundsRequest, OrderOut, order_out
from botbill.orders.web import CardsDep, IdempotencyKey, SettingsDep
from botbill.plans.jobs import bring_current
from botbill.rating.service import settle_app
from botbill.wallet import service
from botbill.wallet.entitlement import Reason
from botbill.workspaces.auth import Admin, Reader
from botbill.workspaces.service import get_workspace

router = APIRouter(tags=["wallet"])


class EntitlementOut(BaseModel):
    active: bool
    reason: Reason | None = None


@router.get(
    "/v1/apps/{app_id}/entitlement",
    response_model=EntitlementOut,
    response_model_exclude_none=True,
)
def entitlement(
    app_id: str, caller: Reader, engine: EngineDep, clock: ClockDep, cards: CardsDep
) -> EntitlementOut:
    """May this app answer now? ``{"active": true}`` or ``{"active": false, "reason"}``."""
    now = clock.now()
    with unit_of_work(engine, write=False) as session:
        get_app(session, caller.workspace_id, app_id)
    settle_app(engine, clock, workspace_id=caller.workspace_id, app_id=app_id, cards=cards)
    bring_current(engine, workspace_id=caller.workspace_id, app_id=app_id, cards=cards, now=now)
    with unit_of_work(engine, write=False, snapshot=True) as session:
        decision = service.entitlement(session, caller.workspace_id, app_id, now=now)
    return EntitlementOut(active=decision.active, reason=decision.reason)


@router.post(
    "/v1/apps/{app_id}/funds",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderOut,
    responses={402: {"description": "The card was declined; nothing was added"}},
)
def add_funds(
    app_id: str,
    body: FundsRequest,
    request: Request,
    caller: Admin,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    cards: CardsDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Add funds to an app's balance: by card at once, by wire once an operator confirms."""
    now = clock.now()
    with unit_of_work(engine, write=True) as session:
        workspace = get_workspace(session, caller.workspace_id)
        get_app(session, workspace.id, app_id)
        service.refuse_enterprise(workspace)
        if key is not None:
            stored = idempotency.claim(
                session,
                workspace_id=workspace.id,
                key=key,
                request_hash=idempotency.fingerprint("POST", request.url.path, body.model_dump()),
                now=now,
            )
            if stored is not None:
                return JSONResponse(
                    stored.body,
                    status_code=stored.status_code,
                    headers={"Idempotent-Replayed": "true"},
                )
        order = service.add_funds(
            session,
            workspace,
            app_id,
            amount=body.amount,
            method=PaymentMethod(body.payment_method),
            token=body.token,
            limits=(settings.funds_min_amount, settings.funds_max_amount),
            cards=cards,
            now=now,
        )
        result = order_out(order).model_dump(mode="json")
        record(
            session,
            workspace_id=workspace.id,
            actor=Actor.admin(caller.key_id),
            action=Action.FUNDS_ADDED,
            target=target("app", app_id),
            before=None,
            after=result,
            now=now,
        )
        if key is not None:
            idempotency.complete(
                session, workspace_id=workspace.id, key=key, status_code=201, body=result
            )
    return JSONResponse(result, status_code=status.HTTP_201_CREATED)
