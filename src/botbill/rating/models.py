"""What is waiting to be rated, and what billing sessions and seat-days were charged."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from botbill.kit.db import Base


class SeatDayCharge(Base):
    """The seats of one app on one local day, and what they were charged."""

    __tablename__ = "seat_day_charges"

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day_end: Mapped[int] = mapped_column(BigInteger)
    seats: Mapped[int] = mapped_column(Integer)
    period_id: Mapped[int] = mapped_column(ForeignKey("subscription_periods.id"))
    plan_code: Mapped[str] = mapped_column(String(32))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    rated_at: Mapped[int] = mapped_column(BigInteger)


class UsageCharge(Base):
    """What rating took for one billing session, so a refund gives back exactly that."""

    __tablename__ = "usage_charges"
    __table_args__ = (
        Index("ix_usage_charges_period", "period_id"),
        ForeignKeyConstraint(["workspace_id", "app_id"], ["apps.workspace_id", "apps.id"]),
    )

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    billing_session_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    app_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(8))
    start: Mapped[int] = mapped_column(BigInteger)
    period_id: Mapped[int] = mapped_column(ForeignKey("subscription_periods.id"))
    plan_code: Mapped[str] = mapped_column(String(32))
    pool: Mapped[str] = mapped_column(String(8))
    units: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    charged_at: Mapped[int] = mapped_column(BigInteger)
    refunded_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
