"""Compatibility: API clients, rate-limit counters, conversation and request rollups

Revision ID: c9a3e5f7b003
Revises: b8f2d4e6a002
Create Date: 2026-12-03 10:00:00.000000

Counters for the platform's billingsessionsummary, kept incrementally like the other rollups.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "c9a3e5f7b003"
down_revision: str | None = "b8f2d4e6a002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
