from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from botbill.audit.service import Actor
from botbill.auth.dependencies import Admin, OperatorDep
from botbill.kit.db import unit_of_work
from botbill.kit.web import ClockDep, EngineDep
from botbill.orders import idempotency
from botbill.orders.schemas import FundsRequest, OrderOut, order_out
from botbill.orders.web import CardsDep, IdempotencyKey, SettingsDep, reply_response
from botbill.wallet import service

router = APIRouter(tags=["wallet"])


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
    with unit_of_work(engine, write=True) as session:
        reply = service.add_funds(
            session,
            workspace_id=caller.workspace_id,
            app_id=app_id,
            funds=body,
            actor=Actor.admin(caller.key_id),
            request=idempotency.request_of(key, "POST", request.url.path, body.model_dump()),
            limits=(settings.funds_min_amount, settings.funds_max_amount),
            cards=cards,
            now=clock.now(),
        )
    return reply_response(reply)


@router.post(
    "/v1/orders/{order_id}/confirm-payment",
    tags=["orders"],
    responses={409: {"description": "Not a wire order, or not pending any more"}},
)
def confirm_wire_payment(
    order_id: str, operator: OperatorDep, engine: EngineDep, clock: ClockDep, cards: CardsDep
) -> OrderOut:
    """Operators: a wire transfer has arrived; the order is paid and its funds land."""
    with unit_of_work(engine, write=True) as session:
        order = service.confirm_payment(
            session, order_id, actor=Actor.operator(operator.key_id), cards=cards, now=clock.now()
        )
        return order_out(order)
