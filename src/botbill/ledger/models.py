"""The ledger (append-only) and each app's running balance."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from botbill.kit.db import Base, BigId


class LedgerEntry(Base):
    """One movement of an app's money; never updated or deleted (``wallet/ledger.py``)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("workspace_id", "entry_key"),
        Index("ix_ledger_entries_app_at", "workspace_id", "app_id", "at"),
        # Promotional grants by expiry, and the lapse of each grant: read before every
        # balance, so they must not scan the ledger.
        Index(
            "ix_ledger_entries_expiry",
            "workspace_id",
            "expires_at",
            sqlite_where=text("expires_at IS NOT NULL"),
            postgresql_where=text("expires_at IS NOT NULL"),
        ),
        Index(
            "ix_ledger_entries_lot",
            "lot_id",
            sqlite_where=text("lot_id IS NOT NULL"),
            postgresql_where=text("lot_id IS NOT NULL"),
        ),
        ForeignKeyConstraint(["workspace_id", "app_id"], ["apps.workspace_id", "apps.id"]),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str | None] = mapped_column(String(64), default=None)
    entry_key: Mapped[str | None] = mapped_column(String(128), default=None)
    """What this entry books, once: e.g. ``order:ord_…`` (a second booking is refused)."""
    expires_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), default=None)


class Balance(Base):
    """An app's running balance: the sum of its ledger entries, moved by every booking in
    the same transaction, so reading a balance never sums the whole ledger."""

    __tablename__ = "balances"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id", "app_id"], ["apps.workspace_id", "apps.id"]),
    )

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    entries: Mapped[int] = mapped_column(Integer)
    """How many ledger entries the amount sums (a check against the ledger)."""
