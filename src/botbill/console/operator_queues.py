"""What the operator pages list across every workspace: wire orders awaiting
confirmation, invoices that may be voided, workspaces and their account type.

The API answers these per workspace or per id; an operator's console needs them across
the platform, newest first, a page at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from botbill.invoicing.models import Invoice
from botbill.invoicing.rules import DocumentKind
from botbill.invoicing.service import InvoiceStatus
from botbill.orders.models import Order
from botbill.orders.providers import PaymentMethod, PaymentStatus
from botbill.workspaces.models import App, Workspace

LISTED = 100


def wire_orders_awaiting(session: Session, *, limit: int = LISTED) -> list[tuple[Order, str]]:
    """Wire orders not yet confirmed, oldest first (the first to chase), with their
    workspace's name."""
    query = (
        select(Order, Workspace.name)
        .join(Workspace, Workspace.id == Order.workspace_id)
        .where(
            Order.payment_method == PaymentMethod.WIRE.value,
            Order.payment_status == PaymentStatus.PENDING.value,
        )
        .order_by(Order.created_at, Order.id)
        .limit(limit)
    )
    return [(order, name) for order, name in session.execute(query)]


def recent_invoices(session: Session, *, limit: int = LISTED) -> list[tuple[Invoice, str]]:
    """Issued invoices (not credit notes, not void), newest first, with their workspace's
    name: what an operator may void."""
    query = (
        select(Invoice, Workspace.name)
        .join(Workspace, Workspace.id == Invoice.workspace_id)
        .where(
            Invoice.kind == DocumentKind.INVOICE.value,
            Invoice.status == InvoiceStatus.ISSUED.value,
        )
        .order_by(Invoice.issued_at.desc(), Invoice.id.desc())
        .limit(limit)
    )
    return [(invoice, name) for invoice, name in session.execute(query)]


@dataclass(frozen=True, slots=True)
class WorkspaceRow:
    id: str
    name: str
    account_type: str
    timezone: str
    currency: str
    apps: int


def workspaces(session: Session) -> list[WorkspaceRow]:
    """Every workspace with its account type and number of apps, by name."""
    apps = (
        select(App.workspace_id, func.count().label("apps")).group_by(App.workspace_id).subquery()
    )
    query = (
        select(Workspace, func.coalesce(apps.c.apps, 0))
        .outerjoin(apps, apps.c.workspace_id == Workspace.id)
        .order_by(Workspace.name, Workspace.id)
    )
    return [
        WorkspaceRow(w.id, w.name, w.account_type, w.timezone, w.currency, int(count))
        for w, count in session.execute(query)
    ]
