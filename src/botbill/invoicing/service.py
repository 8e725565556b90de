"""Issuing invoices when orders are paid, voiding them, and reading them back (SPEC §4).

Services flush; the caller commits. An invoice is issued in the transaction that marks
its order paid, and takes its number there (``invoicing/numbering.py``), so a payment
that rolls back leaves neither an invoice nor a gap in the series.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from botbill.audit.service import Action, Actor, record, target
from botbill.invoicing.documents import Document
from botbill.invoicing.models import Invoice
from botbill.invoicing.numbering import take_number
from botbill.invoicing.profiles import buyer_profile, party_json, seller_profile
from botbill.invoicing.rules import (
    DocumentKind,
    Line,
    Party,
    Totals,
    negated,
    parse_tax_rate,
    rate_text,
    series_year,
    totals_of,
)
from botbill.kit.ids import new_id
from botbill.kit.instants import Micros, from_micros
from botbill.kit.problems import Conflict, NotFound
from botbill.webhooks.events import EventType
from botbill.webhooks.outbox import announce
from botbill.workspaces.models import Workspace


class InvoiceStatus(StrEnum):
    ISSUED = "issued"
    VOID = "void"


@dataclass(frozen=True, slots=True)
class Billed:
    """What a paid order bills: everything its invoice copies from the order."""

    order_id: str
    workspace_id: str
    app_id: str
    currency: str
    payment_method: str
    payment_status: str
    lines: tuple[Line, ...]
    tax_rate: Decimal


def issue_invoice(session: Session, billed: Billed, *, now: Micros) -> Invoice:
    """The invoice of an order being paid, with both profiles as they are now."""
    workspace = session.get(Workspace, billed.workspace_id)
    assert workspace is not None  # a foreign key
    invoice = _issue(
        session,
        kind=DocumentKind.INVOICE,
        billed=billed,
        totals=totals_of(billed.lines, billed.tax_rate),
        seller=seller_profile(session).party,
        buyer=buyer_profile(session, workspace).party,
        now=now,
    )
    _announce_issued(session, invoice, now=now)
    return invoice


def _announce_issued(session: Session, invoice: Invoice, *, now: Micros) -> None:
    """``invoice.issued`` to the workspace's webhooks, in this transaction."""
    announce(
        session,
        workspace_id=invoice.workspace_id,
        type=EventType.INVOICE_ISSUED,
        data={
            "invoice_id": invoice.id,
            "number": invoice.number,
            "order_id": invoice.order_id,
            "app_id": invoice.app_id,
            "issued_at": invoice.issued_at,
            "subtotal": invoice.subtotal,
            "tax_rate": invoice.tax_rate,
            "tax": invoice.tax,
            "total": invoice.total,
            "currency": invoice.currency,
            "replaces": invoice.replaces,
        },
        now=now,
    )


def _issue(
    session: Session,
    *,
    kind: DocumentKind,
    billed: Billed,
    totals: Totals,
    seller: Party,
    buyer: Party,
    now: Micros,
    refers_to: str | None = None,
    replaces: str | None = None,
) -> Invoice:
    invoice = Invoice(
        id=new_id("cn" if kind is DocumentKind.CREDIT_NOTE else "inv"),
        workspace_id=billed.workspace_id,
        app_id=billed.app_id,
        order_id=billed.order_id,
        kind=kind.value,
        number=take_number(session, kind, series_year(now)),
        issued_at=from_micros(now),
        status=InvoiceStatus.ISSUED.value,
        seller=party_json(seller),
        buyer=party_json(buyer),
        lines=[
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "amount": line.amount,
            }
            for line in billed.lines
        ],
        subtotal=totals.subtotal,
        tax_rate=rate_text(totals.tax_rate),
        tax=totals.tax,
        total=totals.total,
        currency=billed.currency,
        payment_method=billed.payment_method,
        payment_status=billed.payment_status,
        refers_to=refers_to,
        replaces=replaces,
    )
    session.add(invoice)
    session.flush()
    return invoice


# --- voiding ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Voided:
    invoice: Invoice
    credit_note: Invoice
    replacement: Invoice


def void_invoice(
    session: Session, invoice_id: str, *, reason: str, actor: Actor, now: Micros
) -> Voided:
    """An operator voids an invoice: a credit note cancels it in full, and a replacement
    with a new number, the current profiles and the same lines, rate and totals is issued
    at once. The money does not move; the voided invoice is marked ``void``."""
    invoice = session.scalars(
        select(Invoice).where(Invoice.id == invoice_id).with_for_update()
    ).one_or_none()
    if invoice is None:
        raise NotFound(f"no invoice {invoice_id!r}")
    if invoice.kind != DocumentKind.INVOICE.value:
        raise Conflict(f"{invoice.number} is a credit note; only an invoice can be voided")
    if invoice.status == InvoiceStatus.VOID.value:
        raise Conflict(
            f"{invoice.number} is already void (credit note {invoice.credit_note_id}, "
            f"replaced by {invoice.replaced_by})"
        )
    workspace = session.get(Workspace, invoice.workspace_id)
    assert workspace is not None  # a foreign key
    billed = billed_of(invoice)
    totals = totals_of(billed.lines, billed.tax_rate)
    credit_lines, credit_totals = negated(billed.lines, totals)
    # Credit notes' series first, then invoices': every transaction that takes both takes
    # them in this order, and payments take only the second, so none waits in a cycle.
    credit_note = _issue(
        session,
        kind=DocumentKind.CREDIT_NOTE,
        billed=replace(billed, lines=credit_lines),
        totals=credit_totals,
        seller=party_of(invoice.seller),
        buyer=party_of(invoice.buyer),
        now=now,
        refers_to=invoice.id,
    )
    replacement = _issue(
        session,
        kind=DocumentKind.INVOICE,
        billed=billed,
        totals=totals,
        seller=seller_profile(session).party,
        buyer=buyer_profile(session, workspace).party,
        now=now,
        replaces=invoice.id,
    )
    invoice.status = InvoiceStatus.VOID.value
    invoice.credit_note_id = credit_note.id
    invoice.replaced_by = replacement.id
    invoice.voided_at = from_micros(now)
    invoice.void_reason = reason
    session.flush()
    _announce_issued(session, replacement, now=now)
    announce(
        session,
        workspace_id=invoice.workspace_id,
        type=EventType.INVOICE_VOIDED,
        data={
            "invoice_id": invoice.id,
            "number": invoice.number,
            "order_id": invoice.order_id,
            "app_id": invoice.app_id,
            "reason": reason,
            "credit_note_id": credit_note.id,
            "credit_note_number": credit_note.number,
            "replaced_by": replacement.id,
            "replacement_number": replacement.number,
        },
        now=now,
    )
    record(
        session,
        workspace_id=invoice.workspace_id,
        actor=actor,
        action=Action.INVOICE_VOIDED,
        target=target("invoice", invoice.id),
        before={"number": invoice.number, "status": InvoiceStatus.ISSUED.value},
        after={
            "number": invoice.number,
            "status": invoice.status,
            "reason": reason,
            "credit_note_id": credit_note.id,
            "credit_note_number": credit_note.number,
            "replaced_by": replacement.id,
            "replacement_number": replacement.number,
        },
        now=now,
    )
    return Voided(invoice, credit_note, replacement)


# --- reading ------------------------------------------------------------------------------


def get_invoice(session: Session, workspace_id: str, invoice_id: str) -> Invoice:
    invoice = session.get(Invoice, invoice_id) if "\x00" not in invoice_id else None
    if invoice is None or invoice.workspace_id != workspace_id:
        raise NotFound(f"no invoice {invoice_id!r}")
    return invoice


def list_invoices(
    session: Session,
    workspace_id: str,
    *,
    app_id: str | None = None,
    status: InvoiceStatus | None = None,
    kind: DocumentKind | None = None,
    issued_from: datetime | None = None,
    issued_to: datetime | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> list[Invoice]:
    """Newest first; ``after`` is the ``(issued_at, id)`` of the last document seen."""
    query = select(Invoice).where(Invoice.workspace_id == workspace_id)
    if app_id is not None:
        query = query.where(Invoice.app_id == app_id)
    if status is not None:
        query = query.where(Invoice.status == status.value)
    if kind is not None:
        query = query.where(Invoice.kind == kind.value)
    if issued_from is not None:
        query = query.where(Invoice.issued_at >= issued_from)
    if issued_to is not None:
        query = query.where(Invoice.issued_at < issued_to)
    if after is not None:
        query = query.where(tuple_(Invoice.issued_at, Invoice.id) < tuple_(*after))
    query = query.order_by(Invoice.issued_at.desc(), Invoice.id.desc()).limit(limit)
    return list(session.scalars(query))


# --- values -------------------------------------------------------------------------------


def party_of(fields: dict[str, Any]) -> Party:
    return Party(
        legal_name=fields["legal_name"],
        address_lines=tuple(fields["address_lines"]),
        country=fields["country"],
        tax_id=fields["tax_id"],
        email=fields["email"],
    )


def document_of(session: Session, invoice: Invoice) -> Document:
    """The document to render: the stored copy, and the number it refers to."""
    preceding_id = invoice.refers_to or invoice.replaces
    preceding = None if preceding_id is None else session.get(Invoice, preceding_id)
    return Document(
        number=invoice.number,
        kind=DocumentKind(invoice.kind),
        issued_at=invoice.issued_at,
        seller=party_of(invoice.seller),
        buyer=party_of(invoice.buyer),
        lines=lines_of(invoice),
        totals=Totals(
            subtotal=invoice.subtotal,
            tax_rate=parse_tax_rate(invoice.tax_rate),
            tax=invoice.tax,
            total=invoice.total,
        ),
        currency=invoice.currency,
        payment_method=invoice.payment_method,
        payment_status=invoice.payment_status,
        order_id=invoice.order_id,
        app_id=invoice.app_id,
        void=invoice.status == InvoiceStatus.VOID.value,
        preceding=None if preceding is None else preceding.number,
    )


def lines_of(invoice: Invoice) -> tuple[Line, ...]:
    return tuple(
        Line(line["description"], line["quantity"], line["unit_price"]) for line in invoice.lines
    )


def billed_of(invoice: Invoice) -> Billed:
    return Billed(
        order_id=invoice.order_id,
        workspace_id=invoice.workspace_id,
        app_id=invoice.app_id,
        currency=invoice.currency,
        payment_method=invoice.payment_method,
        payment_status=invoice.payment_status,
        lines=lines_of(invoice),
        tax_rate=parse_tax_rate(invoice.tax_rate),
    )
