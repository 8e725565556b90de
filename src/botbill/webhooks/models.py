"""Tables of the webhooks package: endpoints, the events announced, one delivery per
endpoint and event (the outbox), and what was last announced about each app."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from botbill.kit.db import Base


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
        Index("ix_webhook_endpoints_workspace", "workspace_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(64))
    """``whsec_`` + base64 of the signing key; kept readable because every delivery is
    signed with it."""
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class WebhookEvent(Base):
    """One announced change, written in the transaction of the change itself."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_workspace", "workspace_id", "occurred_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """Sent as ``webhook-id``: the same for every attempt and endpoint."""
    workspace_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class WebhookDelivery(Base):
    """One event for one endpoint: the outbox row the sender works through."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at", "id"),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    endpoint_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(String(32), ForeignKey("webhook_events.id"))
    status: Mapped[str] = mapped_column(String(16))
    """``pending``, ``succeeded`` or ``failed``."""
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[int | None] = mapped_column(BigInteger)
    """When a pending delivery is due (µs); while a sender holds it, the end of its lease."""
    claim: Mapped[str | None] = mapped_column(String(32))
    """The token of the sender holding the lease: only it may record the attempt."""
    last_attempt_at: Mapped[int | None] = mapped_column(BigInteger)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[int] = mapped_column(BigInteger)


class AnnouncedState(Base):
    """What was last announced about an app (its entitlement and its notices), so that a
    sweep announces each change of state once."""

    __tablename__ = "webhook_announced_states"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id", "app_id"], ["apps.workspace_id", "apps.id"]),
    )

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(32))
    notices: Mapped[list[str]] = mapped_column(JSON)
    """The notice types shown at the last sweep."""
    recorded_at: Mapped[int] = mapped_column(BigInteger)
    """When this state was last announced (µs)."""
