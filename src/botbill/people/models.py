"""Tables of the people package: platform operators, console sessions, sign-in failures.

A member's password lives on its ``members`` row (one password per email: every row of
the email carries the same hash); an operator's on its ``operators`` row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from botbill.kit.db import Base, BigId, UtcDateTime


class Operator(Base):
    """A platform operator who signs in to the console: platform-wide, in no workspace."""

    __tablename__ = "operators"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ConsoleSession(Base):
    """One signed-in browser. The cookie holds the token; only its SHA-256 is stored."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_email", "email"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[int] = mapped_column(BigInteger)
    """µs, UTC."""
    last_seen_at: Mapped[int] = mapped_column(BigInteger)
    """µs, UTC: the idle expiry counts from here."""


class SignInFailure(Base):
    """A failed sign-in of one email from one client address (the throttle's memory)."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_pair", "email", "client", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[int] = mapped_column(BigInteger)
    """µs, UTC."""
