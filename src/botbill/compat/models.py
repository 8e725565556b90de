"""Tables of the compat package: API clients, their rate-limit counters, summary jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from botbill.kit.db import Base, BigId, UtcDateTime


class ApiClient(Base):
    """A client of the platform-compatible API; its secret signs the caller's JWTs.

    HS256 needs the secret itself to check a signature, so it is kept encrypted (AES-GCM
    under a key derived from the server's secret key), never as a digest.
    """

    __tablename__ = "api_clients"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # cs-<uuid>
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[str] = mapped_column(String(200))
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split(","))


class ApiClientRequestCount(Base):
    """Requests of one client in one minute or hour window (``window_start`` in µs).

    In the database rather than in memory, so the limit holds across server processes.
    """

    __tablename__ = "api_client_request_counts"

    client_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    window: Mapped[str] = mapped_column(String(8), primary_key=True)  # "minute" or "hour"
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    requests: Mapped[int] = mapped_column(Integer)


class SummaryJob(Base):
    """A ``billingsessionsummary`` request: its record, and the query its result answers."""

    __tablename__ = "summary_jobs"
    __table_args__ = (Index("ix_summary_jobs_caller", "client_id", "bot_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)  # reportId
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # ds-<uuid>
    workspace_id: Mapped[str] = mapped_column(String(32))
    client_id: Mapped[str] = mapped_column(String(40))
    bot_id: Mapped[str] = mapped_column(String(64))  # "" for the workspace form
    created_at: Mapped[int] = mapped_column(BigInteger)
    query: Mapped[dict[str, Any]] = mapped_column(JSON)
