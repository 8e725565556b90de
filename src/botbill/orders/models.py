"""Orders (purchases) and the Idempotency-Key records of money-moving requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from botbill.kit.db import Base, UtcDateTime


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_workspace_created", "workspace_id", "created_at", "id"),
        ForeignKeyConstraint(["workspace_id", "app_id"], ["apps.workspace_id", "apps.id"]),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    plan_code: Mapped[str | None] = mapped_column(String(32), default=None)
    amount: Mapped[int] = mapped_column(BigInteger)
    """The net cost (what an add-funds order credits to the balance)."""
    credit: Mapped[int] = mapped_column(BigInteger, default=0)
    """The unused-fee credit of a plan change, already taken off ``amount``."""
    tax_rate: Mapped[str] = mapped_column(String(12), default="0")
    """The buyer's rate when the payment method was set; ``0`` when paid from the balance."""
    tax: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger)
    """``amount + tax``: what the card or the wire is charged."""
    currency: Mapped[str] = mapped_column(String(3))
    payment_method: Mapped[str] = mapped_column(String(8))
    payment_status: Mapped[str] = mapped_column(String(8))
    provider_reference: Mapped[str | None] = mapped_column(String(64), default=None)
    failure_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    invoice_id: Mapped[str | None] = mapped_column(String(32), default=None)
    """The order's invoice (its replacement once voided); none when paid from the balance."""


class IdempotencyRecord(Base):
    """The first answer to a request sent with an ``Idempotency-Key``, replayed on repeats."""

    __tablename__ = "idempotency_keys"

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
