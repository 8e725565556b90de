"""What is waiting to be rated, and what seat-days were charged."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from botbill.kit.db import Base, BigId


class RatingQueueEntry(Base):
    """A billing session to charge (``sign`` +1) or to refund (-1).

    Written by the metering diff in the same transaction as the billing session it names,
    so nothing completed is ever missed; the rater deletes the rows it has rated.
    """

    __tablename__ = "rating_queue"
    __table_args__ = (Index("ix_rating_queue_app", "workspace_id", "app_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(64))
    billing_session_id: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(8))
    start: Mapped[int] = mapped_column(BigInteger)
    sign: Mapped[int] = mapped_column(SmallInteger)


class SeatDayQueueEntry(Base):
    """A local day of an app whose seats changed: to be rated once the day has ended.

    Append-only, like the rating queue: a seat change adds a row in its own transaction
    and the rater deletes exactly the rows it took. A day queued again while a rater is
    counting it keeps its new row, so the day is counted once more after that change.
    """

    __tablename__ = "seat_day_queue"
    __table_args__ = (
        Index("ix_seat_day_queue_day_end", "day_end"),
        Index("ix_seat_day_queue_app_day", "workspace_id", "app_id", "day_start"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(64))
    day_start: Mapped[int] = mapped_column(BigInteger)
    day_end: Mapped[int] = mapped_column(BigInteger)


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


class SeatDaySweep(Base):
    """How far a workspace's still-open seats have been swept into the seat-day queue."""

    __tablename__ = "seat_day_sweeps"

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    swept_until: Mapped[int] = mapped_column(BigInteger)
