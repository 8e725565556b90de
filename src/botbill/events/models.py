from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from botbill.kit.db import Base, BigId


class Event(Base):
    """A raw event as received, kept for rebuilds and audits.

    The fields the engine reads are columns, so recomputing a conversation never parses
    JSON; ``data`` and ``extensions`` keep the rest as sent. Instants are microseconds.
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source", "event_id"),
        Index(
            "ix_events_conversation_id",
            "workspace_id",
            "conversation_id",
            sqlite_where=text("conversation_id IS NOT NULL"),
            postgresql_where=text("conversation_id IS NOT NULL"),
        ),
        Index(
            "ix_events_agent_id",
            "workspace_id",
            "app_id",
            "agent_id",
            sqlite_where=text("agent_id IS NOT NULL"),
            postgresql_where=text("agent_id IS NOT NULL"),
        ),
    )

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(256))
    event_id: Mapped[str] = mapped_column(String(256))
    type: Mapped[str] = mapped_column(String(64))
    app_id: Mapped[str] = mapped_column(String(64))
    time: Mapped[int] = mapped_column(BigInteger)
    ingested_at: Mapped[int] = mapped_column(BigInteger)
    conversation_id: Mapped[str | None] = mapped_column(String(128), default=None)
    agent_id: Mapped[str | None] = mapped_column(String(128), default=None)
    sender: Mapped[str | None] = mapped_column(String(8), default=None)
    channel: Mapped[str | None] = mapped_column(String(8), default=None)
    developer: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    extensions: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
