from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from botbill.audit.service import Actor
from botbill.auth.dependencies import Admin, OperatorDep, Reader
from botbill.invoicing import profiles, service
from botbill.invoicing.cii import cii_xml
from botbill.invoicing.pdf import render_pdf
from botbill.invoicing.rules import DocumentKind
from botbill.invoicing.schemas import (
    BillingProfileIn,
    BillingProfileOut,
    InvoiceOut,
    SellerProfileIn,
    SellerProfileOut,
    billing_profile_out,
    invoice_out,
    seller_profile_out,
)
from botbill.invoicing.service import InvoiceStatus
from botbill.kit.pagination import CursorQuery, LimitQuery, Page, cut_page, decode_cursor
from botbill.kit.problems import Invalid
from botbill.kit.web import ClockDep, ReadSession, WriteSession
from botbill.workspaces.service import get_app, get_workspace

router = APIRouter(tags=["invoices"])


@router.get("/v1/billing-profile")
def get_billing_profile(caller: Reader, session: ReadSession) -> BillingProfileOut:
    """The workspace's billing profile, as its next invoice will name the buyer."""
    workspace = get_workspace(session, caller.workspace_id)
    profiles.refuse_enterprise(workspace)
    return billing_profile_out(profiles.buyer_profile(session, workspace))


@router.put("/v1/billing-profile")
def put_billing_profile(
    body: BillingProfileIn, caller: Admin, session: WriteSession, clock: ClockDep
) -> BillingProfileOut:
    """Set the workspace's billing profile (admin key). Issued invoices keep theirs."""
    buyer = profiles.set_buyer_profile(
        session,
        get_workspace(session, caller.workspace_id),
        body.party(),
        tax_rate=body.rate(),
        actor=Actor.admin(caller.key_id),
        now=clock.now(),
    )
    return billing_profile_out(buyer)


@router.get("/v1/operator/seller-profile")
def get_seller_profile(_operator: OperatorDep, session: ReadSession) -> SellerProfileOut:
    """Operators: the seller's profile (the `BOTBILL_SELLER_*` settings until set)."""
    return seller_profile_out(profiles.seller_profile(session))


@router.put("/v1/operator/seller-profile")
def put_seller_profile(
    body: SellerProfileIn, operator: OperatorDep, session: WriteSession, clock: ClockDep
) -> SellerProfileOut:
    """Operators: set the seller's profile; invoices issued from now on carry it."""
    seller = profiles.set_seller_profile(
        session, body.party(), actor=Actor.operator(operator.key_id), now=clock.now()
    )
    return seller_profile_out(seller)


def _instant(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise Invalid.at(
            ["query", name], "an instant needs a UTC offset, e.g. 2026-11-26T00:00:00Z"
        )
    return value


@router.get("/v1/invoices")
def list_invoices(
    caller: Reader,
    session: ReadSession,
    issued_from: Annotated[
        datetime | None, Query(alias="from", description="Issued at or after (RFC 3339).")
    ] = None,
    issued_to: Annotated[
        datetime | None, Query(alias="to", description="Issued before (RFC 3339).")
    ] = None,
    status: Annotated[InvoiceStatus | None, Query(description="`issued` or `void`.")] = None,
    app_id: Annotated[str | None, Query(description="Only this app's documents.")] = None,
    kind: Annotated[
        DocumentKind | None, Query(description="`invoice` or `credit_note`; both if absent.")
    ] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[InvoiceOut]:
    """The workspace's invoices and credit notes, newest first."""
    position = decode_cursor(cursor, arity=2)
    after = None
    if position is not None:
        try:
            moment = datetime.fromisoformat(str(position[0]))
        except ValueError:
            raise Invalid.at(["query", "cursor"], "not a cursor this API issued") from None
        after = (moment, str(position[1]))
    workspace = get_workspace(session, caller.workspace_id)
    profiles.refuse_enterprise(workspace)
    if app_id is not None:
        get_app(session, workspace.id, app_id)
    invoices = service.list_invoices(
        session,
        workspace.id,
        app_id=app_id,
        status=status,
        kind=kind,
        issued_from=_instant(issued_from, "from"),
        issued_to=_instant(issued_to, "to"),
        after=after,
        limit=limit + 1,
    )
    page, next_cursor = cut_page(invoices, limit, lambda i: [i.issued_at.isoformat(), i.id])
    return Page(items=[invoice_out(invoice) for invoice in page], next_cursor=next_cursor)


@router.get("/v1/invoices/{invoice_id}")
def get_invoice(invoice_id: str, caller: Reader, session: ReadSession) -> InvoiceOut:
    workspace = get_workspace(session, caller.workspace_id)
    profiles.refuse_enterprise(workspace)
    return invoice_out(service.get_invoice(session, workspace.id, invoice_id))


@router.get(
    "/v1/invoices/{invoice_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "A Factur-X PDF"}},
)
def get_invoice_pdf(invoice_id: str, caller: Reader, session: ReadSession) -> Response:
    """The document as a Factur-X PDF (PDF/A-3 carrying its EN 16931 CII XML)."""
    workspace = get_workspace(session, caller.workspace_id)
    profiles.refuse_enterprise(workspace)
    document = service.document_of(session, service.get_invoice(session, workspace.id, invoice_id))
    return Response(
        render_pdf(document),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{document.number}.pdf"'},
    )


@router.get(
    "/v1/invoices/{invoice_id}/xml",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}, "description": "EN 16931 CII XML"}},
)
def get_invoice_xml(invoice_id: str, caller: Reader, session: ReadSession) -> Response:
    """The document's EN 16931 Cross Industry Invoice XML (type code 380, or 381 for a
    credit note), the same the PDF carries."""
    workspace = get_workspace(session, caller.workspace_id)
    profiles.refuse_enterprise(workspace)
    document = service.document_of(session, service.get_invoice(session, workspace.id, invoice_id))
    return Response(
        cii_xml(document),
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{document.number}.xml"'},
    )
