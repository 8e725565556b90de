"""The engine's state: what it derived from raw events, kept current on every ingest."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Index, Integer, LargeBinary, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from botbill.kit.db import Base, BigId


class Conversation(Base):
    """One conversation's bookkeeping; its row is also the lock that serializes its updates."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_due_at", "due_at"),
        Index("ix_conversations_workspace_due_at", "workspace_id", "due_at"),
    )

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_event: Mapped[int] = mapped_column(BigInteger)
    # When its open session completes by idle time, if nothing else arrives (µs).
    due_at: Mapped[int | None] = mapped_column(BigInteger, default=None)


class PendingMetering(Base):
    """A conversation or a seat whose new events are stored but not metered yet.

    Ingest writes one row per conversation or seat a batch touched, in the transaction
    that stores the events; the metering drain (``metering/pending.py``) recomputes them
    and deletes the rows it took. Rows are never updated, so an ingest never waits for a
    drain: a row the drain did not take stays for the next one.
    """

    __tablename__ = "metering_pending"
    __table_args__ = (Index("ix_metering_pending_workspace", "workspace_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(12))  # "conversation" or "seat"
    app_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))  # the conversation_id or agent_id
    last_event: Mapped[int] = mapped_column(BigInteger)  # the batch's latest event of it
    recorded_at: Mapped[int] = mapped_column(BigInteger)  # when ingest stored them
    events: Mapped[int] = mapped_column(Integer)  # how many of the batch's new events


class BillingSession(Base):
    """A usage, voice or alert session; only ``completed`` ones are counted and shown."""

    __tablename__ = "billing_sessions"
    __table_args__ = (
        Index("ix_billing_sessions_workspace_start", "workspace_id", "start"),
        Index("ix_billing_sessions_app_start", "workspace_id", "app_id", "start"),
        Index(
            "ix_billing_sessions_conversation_id",
            "workspace_id",
            "conversation_id",
            sqlite_where=text("conversation_id IS NOT NULL"),
            postgresql_where=text("conversation_id IS NOT NULL"),
        ),
        # Ids are never reused (rating keys its charges by them): AUTOINCREMENT on SQLite.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str | None] = mapped_column(String(8), default=None)
    conversation_id: Mapped[str | None] = mapped_column(String(128), default=None)
    conversation_session_start: Mapped[int | None] = mapped_column(BigInteger, default=None)
    conversation_session_end: Mapped[int | None] = mapped_column(BigInteger, default=None)
    ordinal: Mapped[int] = mapped_column(Integer, default=0)
    start: Mapped[int] = mapped_column(BigInteger)
    end: Mapped[int] = mapped_column(BigInteger)
    completed: Mapped[bool] = mapped_column(Boolean)


class UsageRollup(Base):
    """Completed billing sessions per app and 15-minute UTC slot (by their start)."""

    __tablename__ = "usage_rollups"
    __table_args__ = {"sqlite_with_rowid": False}  # clustered on its key

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    usage_sessions: Mapped[int] = mapped_column(Integer, default=0)
    alert_sessions: Mapped[int] = mapped_column(Integer, default=0)
    voice_sessions: Mapped[int] = mapped_column(Integer, default=0)
    # Completed billable conversation sessions and their user messages to the bot, by
    # the conversation session's start (the platform's billingsessionsummary).
    conversations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    requests: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class WorkspaceUsageRollup(Base):
    """The same counts summed over a workspace's apps, for the all-apps views."""

    __tablename__ = "workspace_usage_rollups"
    __table_args__ = {"sqlite_with_rowid": False}  # clustered on its key

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    usage_sessions: Mapped[int] = mapped_column(Integer, default=0)
    alert_sessions: Mapped[int] = mapped_column(Integer, default=0)
    voice_sessions: Mapped[int] = mapped_column(Integer, default=0)
    # Completed billable conversation sessions and their user messages to the bot, by
    # the conversation session's start (the platform's billingsessionsummary).
    conversations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    requests: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class BillableConversationSession(Base):
    """A billable conversation session and the user messages the bot got in it.

    What the ``conversations`` and ``requests`` rollup counters are the sum of (completed
    rows, by the slot of ``start``): kept so that a recomputed conversation moves them by
    exactly what changed, like billing sessions move the others.
    """

    __tablename__ = "billable_conversation_sessions"

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    requests: Mapped[int] = mapped_column(Integer)
    completed: Mapped[bool] = mapped_column(Boolean)


class AgentSeat(Base):
    """One (app, agent) pair; the row serializes updates of its intervals."""

    __tablename__ = "agent_seats"

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    # The seat's bit in seat_presence bitmaps; unique within the workspace.
    ordinal: Mapped[int | None] = mapped_column(Integer, default=None)


class SeatOrdinalCounter(Base):
    """The next free seat ordinal of a workspace; its row serializes handing them out."""

    __tablename__ = "seat_ordinal_counters"

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_ordinal: Mapped[int] = mapped_column(Integer, default=0)


class SeatPresence(Base):
    """The seats held in one 15-minute slot, one bit per seat ordinal (closed seats only)."""

    __tablename__ = "seat_presence"
    __table_args__ = {"sqlite_with_rowid": False}  # clustered on its key

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seats: Mapped[bytes] = mapped_column(LargeBinary)


class SeatInterval(Base):
    __tablename__ = "seat_intervals"
    __table_args__ = (
        Index("ix_seat_intervals_workspace_start", "workspace_id", "start"),
        Index("ix_seat_intervals_agent_id", "workspace_id", "app_id", "agent_id"),
        Index(
            "ix_seat_intervals_open",
            "workspace_id",
            "start",
            sqlite_where=text('"end" IS NULL'),
            postgresql_where=text('"end" IS NULL'),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str] = mapped_column(String(128))
    start: Mapped[int] = mapped_column(BigInteger)
    end: Mapped[int | None] = mapped_column(BigInteger, default=None)


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


class SeatDaySweep(Base):
    """How far a workspace's still-open seats have been swept into the seat-day queue."""

    __tablename__ = "seat_day_sweeps"

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    swept_until: Mapped[int] = mapped_column(BigInteger)
