"""Plan-extension requests, one row per request, decided at most once."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKeyConstraint, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from botbill.kit.db import Base


class ExtensionRequest(Base):
    __tablename__ = "extension_requests"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id", "app_id"], ["apps.workspace_id", "apps.id"]),
        Index("ix_extension_requests_workspace_requested", "workspace_id", "requested_at", "id"),
        Index("ix_extension_requests_app", "workspace_id", "app_id", "requested_at"),
        # One pending request per app: the database holds the rule against races too.
        Index(
            "uq_extension_requests_pending_app",
            "workspace_id",
            "app_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(64))
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(8))
    """``pending``, ``approved`` or ``rejected``."""
    requested_at: Mapped[int] = mapped_column(BigInteger)
    requested_by: Mapped[str] = mapped_column(String(32))
    """The admin key that asked."""
    decided_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    decided_by: Mapped[str | None] = mapped_column(String(32), default=None)
    """The operator key that decided."""
    note: Mapped[str | None] = mapped_column(String(500), default=None)
    period_end_before: Mapped[int | None] = mapped_column(BigInteger, default=None)
    """The period end an approval moved (µs); ``None`` until approved."""
    period_end_after: Mapped[int | None] = mapped_column(BigInteger, default=None)
