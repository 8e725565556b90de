"""The audit log's one table: append-only, written in the transaction of the action."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from botbill.kit.db import Base, BigId

TARGET_LENGTH = 320
"""Room for the longest target: ``member:`` and an email of up to 254 characters."""


class AuditEntry(Base):
    """One admin or operator action. Never updated or deleted (see the guard below)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_workspace_id", "workspace_id", "id"),
        Index("ix_audit_log_workspace_target", "workspace_id", "target", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str | None] = mapped_column(String(32))
    """``None`` for platform-wide actions (the plan catalog)."""
    at: Mapped[int] = mapped_column(BigInteger)
    """When the action happened (µs, UTC)."""
    actor_kind: Mapped[str] = mapped_column(String(16))
    """``admin`` (a workspace API key), ``operator`` (an operator key) or ``cli``."""
    actor_id: Mapped[str] = mapped_column(String(64))
    """The key's id, or for ``cli`` the operating-system user who ran the command."""
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str] = mapped_column(String(TARGET_LENGTH))
    """``kind:id``, e.g. ``app:support-bot``, ``member:ana@example.com``, ``order:ord_…``."""
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def _append_only(_mapper: Mapper[Any], _connection: Any, entry: AuditEntry) -> None:
    raise RuntimeError(f"audit log entry {entry.id} is append-only")


event.listen(AuditEntry, "before_update", _append_only)
event.listen(AuditEntry, "before_delete", _append_only)
