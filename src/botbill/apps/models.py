from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from botbill.kit.db import Base, UtcDateTime


class App(Base):
    """One bot. Its id is chosen by the workspace and unique within it."""

    __tablename__ = "apps"

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"), default=None)
    idle_timeout_minutes: Mapped[int] = mapped_column(Integer, default=15)
    plan: Mapped[str] = mapped_column(String(32), default="trial")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
