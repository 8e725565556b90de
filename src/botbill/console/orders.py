"""Console pages: Orders & Invoices — the workspace's orders, newest first, and each
paid order's invoice as a PDF.

The same services as ``GET /v1/orders`` and ``GET /v1/invoices/{id}/pdf``; an Enterprise
workspace has neither (its viewer dependency answers 403).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from botbill.console.access import OrdersViewer
from botbill.console.pages import ConsoleRoute, error_page, render, with_headers
from botbill.invoicing import service as invoicing
from botbill.invoicing.models import Invoice
from botbill.invoicing.pdf import render_pdf
from botbill.kit.db import unit_of_work
from botbill.kit.pagination import cut_page, decode_cursor
from botbill.kit.problems import NotFound
from botbill.kit.web import EngineDep
from botbill.orders import service as orders
from botbill.orders.schemas import order_out

router = APIRouter(route_class=ConsoleRoute)

PATH = "/console/w/{workspace_id}/orders"
PAGE_SIZE = 50

ORDER_TYPES = {
    "add_funds": "Add funds",
    "subscription": "Subscription",
    "renewal": "Renewal",
    "plan_change": "Plan change",
}
PAYMENT_METHODS = {"card": "Card", "wire": "Wire", "balance": "Balance"}
STATUS_BADGES = {"paid": "success", "pending": "warning", "failed": "danger", "refunded": "neutral"}


@router.get(PATH)
def orders_page(
    request: Request,
    viewer: OrdersViewer,
    engine: EngineDep,
    cursor: Annotated[str, Query()] = "",
) -> Response:
    position = decode_cursor(cursor or None, arity=2)
    after = None
    if position is not None:
        try:
            datetime.fromisoformat(str(position[0]))
        except ValueError:
            position = None
        else:
            after = (str(position[0]), str(position[1]))
    with unit_of_work(engine, write=False) as session:
        rows = orders.list_orders(session, viewer.workspace_id, after=after, limit=PAGE_SIZE + 1)
        rows, next_cursor = cut_page(rows, PAGE_SIZE, lambda o: [o.created_at.isoformat(), o.id])
        invoice_ids = [o.invoice_id for o in rows if o.invoice_id]
        numbers: dict[str, str] = {
            row.id: row.number
            for row in session.execute(
                select(Invoice.id, Invoice.number).where(Invoice.id.in_(invoice_ids))
            )
        }
    page_url = f"/console/w/{viewer.workspace_id}/orders"
    return render(
        request,
        "orders.html",
        viewer,
        orders=[order_out(o) for o in rows],
        numbers=numbers,
        order_types=ORDER_TYPES,
        payment_methods=PAYMENT_METHODS,
        status_badges=STATUS_BADGES,
        first_url=page_url if cursor else None,
        next_url=f"{page_url}?cursor={next_cursor}" if next_cursor else None,
    )


@router.get(PATH + "/invoices/{invoice_id}.pdf")
def invoice_pdf(
    request: Request, invoice_id: str, viewer: OrdersViewer, engine: EngineDep
) -> Response:
    """The invoice as its Factur-X PDF, named after its number (as the API serves it)."""
    with unit_of_work(engine, write=False) as session:
        try:
            invoice = invoicing.get_invoice(session, viewer.workspace_id, invoice_id)
        except NotFound:
            return error_page(request, viewer, 404, "Not found", "There is no such invoice here.")
        document = invoicing.document_of(session, invoice)
    return with_headers(
        Response(
            render_pdf(document),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{document.number}.pdf"'},
        )
    )
