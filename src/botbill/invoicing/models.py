"""Billing profiles, invoice number series and invoices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from botbill.kit.db import Base, UtcDateTime


class BillingProfile(Base):
    """A workspace's billing profile, once an admin has set it (until then: the
    workspace's name, the seller's country, no tax id, rate 0)."""

    __tablename__ = "billing_profiles"

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    address_lines: Mapped[list[str]] = mapped_column(JSON)
    country: Mapped[str] = mapped_column(String(2))
    tax_id: Mapped[str | None] = mapped_column(String(64), default=None)
    billing_email: Mapped[str | None] = mapped_column(String(254), default=None)
    tax_rate: Mapped[str] = mapped_column(String(12))
    """A decimal string, 0 <= rate < 1 (``invoicing.rules.parse_tax_rate``)."""
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SellerProfile(Base):
    """The platform operator's profile, once an operator has set it (one row, id 1;
    until then the ``BOTBILL_SELLER_*`` settings)."""

    __tablename__ = "seller_profile"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    legal_name: Mapped[str] = mapped_column(String(200))
    address_lines: Mapped[list[str]] = mapped_column(JSON)
    country: Mapped[str] = mapped_column(String(2))
    tax_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class InvoiceSeries(Base):
    """The last number taken in one series: one kind of document, one UTC year, the whole
    platform. Taking a number updates this row in the paying transaction, which holds
    its lock until it commits (``invoicing/numbering.py``)."""

    __tablename__ = "invoice_series"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class Invoice(Base):
    """An issued invoice or credit note. It never changes, except that voiding marks an
    invoice ``void`` and links its credit note and replacement (see the guard below)."""

    __tablename__ = "invoices"
    __table_args__ = (
        Index("ix_invoices_workspace_issued", "workspace_id", "issued_at", "id"),
        ForeignKeyConstraint(["workspace_id", "app_id"], ["apps.workspace_id", "apps.id"]),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(20), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(8))
    seller: Mapped[dict[str, Any]] = mapped_column(JSON)
    buyer: Mapped[dict[str, Any]] = mapped_column(JSON)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    subtotal: Mapped[int] = mapped_column(BigInteger)
    """Minor units; negative on a credit note, like ``tax`` and ``total``."""
    tax_rate: Mapped[str] = mapped_column(String(12))
    tax: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    payment_method: Mapped[str] = mapped_column(String(8))
    payment_status: Mapped[str] = mapped_column(String(8))
    refers_to: Mapped[str | None] = mapped_column(String(32), default=None)
    """A credit note's voided invoice."""
    replaces: Mapped[str | None] = mapped_column(String(32), default=None)
    replaced_by: Mapped[str | None] = mapped_column(String(32), default=None)
    credit_note_id: Mapped[str | None] = mapped_column(String(32), default=None)
    voided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    void_reason: Mapped[str | None] = mapped_column(String(500), default=None)


VOIDING = frozenset({"status", "credit_note_id", "replaced_by", "voided_at", "void_reason"})


def _issued_never_changes(_mapper: Mapper[Any], _connection: Any, invoice: Invoice) -> None:
    state = inspect(invoice)
    changed = {attr.key for attr in state.attrs if attr.history.has_changes()}
    status = state.attrs.status.history
    if not changed <= VOIDING or (
        "status" in changed and (list(status.deleted), list(status.added)) != (["issued"], ["void"])
    ):
        raise RuntimeError(f"invoice {invoice.number} is issued: only voiding may mark it")


def _never_deleted(_mapper: Mapper[Any], _connection: Any, invoice: Invoice) -> None:
    raise RuntimeError(f"invoice {invoice.number} is issued and is never deleted")


event.listen(Invoice, "before_update", _issued_never_changes)
event.listen(Invoice, "before_delete", _never_deleted)
