"""The catalog's rows, one subscription per app, and the periods each subscription ran."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from botbill.kit.db import Base, BigId, UtcDateTime
from botbill.plans.catalog import Period, Plan


class PlanRow(Base):
    """A plan of the catalog; the defaults are written on first use (``service.py``)."""

    __tablename__ = "plans"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    fee: Mapped[int | None] = mapped_column(BigInteger)
    period: Mapped[str] = mapped_column(String(8))
    trial_days: Mapped[int] = mapped_column(Integer)
    included_billing_sessions: Mapped[int] = mapped_column(Integer)
    included_voice_sessions: Mapped[int] = mapped_column(Integer)
    usage_price: Mapped[int | None] = mapped_column(BigInteger)
    alert_price: Mapped[int | None] = mapped_column(BigInteger)
    voice_price: Mapped[int | None] = mapped_column(BigInteger)
    seat_day_price: Mapped[int | None] = mapped_column(BigInteger)
    contract: Mapped[bool] = mapped_column(Boolean)
    position: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    def to_plan(self) -> Plan:
        return Plan(
            code=self.code,
            name=self.name,
            fee=self.fee,
            period=Period(self.period),
            included_billing_sessions=self.included_billing_sessions,
            included_voice_sessions=self.included_voice_sessions,
            usage_price=self.usage_price,
            alert_price=self.alert_price,
            voice_price=self.voice_price,
            seat_day_price=self.seat_day_price,
            contract=self.contract,
            trial_days=self.trial_days,
        )


class Subscription(Base):
    """An app's subscription. Its row is also the lock that serializes the app's money."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id", "app_id"], ["apps.workspace_id", "apps.id"]),
    )

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    plan_code: Mapped[str] = mapped_column(ForeignKey("plans.code"))
    state: Mapped[str] = mapped_column(String(16))
    """``active``, ``expired`` or ``cancelled``; the shown status is derived (entitlement)."""
    expired_because: Mapped[str | None] = mapped_column(String(24), default=None)
    """``renewal_failed`` or ``renewal_off`` once expired."""
    anchor: Mapped[int] = mapped_column(BigInteger)
    """Where the current series of monthly periods began (µs)."""
    period_index: Mapped[int] = mapped_column(Integer)
    period_id: Mapped[int] = mapped_column(ForeignKey("subscription_periods.id"))
    period_start: Mapped[int] = mapped_column(BigInteger)
    period_end: Mapped[int] = mapped_column(BigInteger)
    unpaid_order_id: Mapped[str | None] = mapped_column(String(32), default=None)
    """The fee order of the current period while it waits for funds."""
    scheduled_plan_code: Mapped[str | None] = mapped_column(ForeignKey("plans.code"), default=None)
    renew: Mapped[bool] = mapped_column(Boolean, default=True)
    saved_card_token: Mapped[str | None] = mapped_column(String(128), default=None)
    """The last card that paid successfully, for renewals and auto-reload."""
    auto_reload_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_reload_threshold: Mapped[int | None] = mapped_column(BigInteger, default=None)
    auto_reload_amount: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SubscriptionPeriod(Base):
    """One period an app's subscription ran, with its plan and what rating drew from it."""

    __tablename__ = "subscription_periods"
    __table_args__ = (
        Index("ix_subscription_periods_app_start", "workspace_id", "app_id", "start"),
        ForeignKeyConstraint(["workspace_id", "app_id"], ["apps.workspace_id", "apps.id"]),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(64))
    plan_code: Mapped[str] = mapped_column(ForeignKey("plans.code"))
    start: Mapped[int] = mapped_column(BigInteger)
    end: Mapped[int] = mapped_column(BigInteger)
    """The planned end; an upgrade cuts it to the instant the next period began.

    Periods are ordered by ``(start, id)``: an upgrade at the very instant a period began
    leaves that period empty, and the later one holds the instant.
    """
    fee_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    included_billing: Mapped[int] = mapped_column(Integer)
    included_voice: Mapped[int] = mapped_column(Integer)
    drawn_billing: Mapped[int] = mapped_column(Integer, default=0)
    drawn_voice: Mapped[int] = mapped_column(Integer, default=0)
    usage_sessions: Mapped[int] = mapped_column(Integer, default=0)
    alert_sessions: Mapped[int] = mapped_column(Integer, default=0)
    voice_sessions: Mapped[int] = mapped_column(Integer, default=0)
