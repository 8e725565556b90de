from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, status

from botbill.audit.service import Actor
from botbill.auth.dependencies import OperatorDep, Reader
from botbill.invoicing.schemas import InvoiceOut, VoidRequest, invoice_out
from botbill.kit.db import unit_of_work
from botbill.kit.pagination import CursorQuery, LimitQuery, Page, cut_page, decode_cursor
from botbill.kit.problems import Invalid
from botbill.kit.web import ClockDep, EngineDep, WriteSession
from botbill.orders import service
from botbill.orders.schemas import OrderOut, order_out
from botbill.orders.service import refuse_enterprise
from botbill.workspaces.service import get_app, get_workspace

router = APIRouter(tags=["orders"])


@router.get("/v1/orders")
def list_orders(
    caller: Reader,
    engine: EngineDep,
    app_id: str | None = Query(default=None, description="Only this app's orders."),
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[OrderOut]:
    """The workspace's orders, newest first."""
    position = decode_cursor(cursor, arity=2)
    after = None
    if position is not None:
        try:
            datetime.fromisoformat(str(position[0]))
        except ValueError:
            raise Invalid.at(["query", "cursor"], "not a cursor this API issued") from None
        after = (str(position[0]), str(position[1]))
    with unit_of_work(engine, write=False) as session:
        workspace = get_workspace(session, caller.workspace_id)
        refuse_enterprise(workspace)
        if app_id is not None:
            get_app(session, workspace.id, app_id)
        orders = service.list_orders(
            session, workspace.id, app_id=app_id, after=after, limit=limit + 1
        )
    orders, next_cursor = cut_page(orders, limit, lambda o: [o.created_at.isoformat(), o.id])
    return Page(items=[order_out(o) for o in orders], next_cursor=next_cursor)


@router.get("/v1/orders/{order_id}")
def get_order(order_id: str, caller: Reader, engine: EngineDep) -> OrderOut:
    with unit_of_work(engine, write=False) as session:
        workspace = get_workspace(session, caller.workspace_id)
        refuse_enterprise(workspace)
        return order_out(service.get_order(session, workspace.id, order_id))


@router.post(
    "/v1/invoices/{invoice_id}/void",
    status_code=status.HTTP_201_CREATED,
    tags=["invoices"],
    responses={409: {"description": "Already void, or a credit note"}},
)
def void_invoice(
    invoice_id: str,
    body: VoidRequest,
    operator: OperatorDep,
    session: WriteSession,
    clock: ClockDep,
) -> InvoiceOut:
    """Operators: void an invoice. The answer is its credit note; a replacement invoice for
    the same order is issued at once (`replaced_by`). No money moves."""
    voided = service.void_invoice(
        session,
        invoice_id,
        reason=body.reason,
        actor=Actor.operator(operator.key_id),
        now=clock.now(),
    )
    return invoice_out(voided.credit_note)
