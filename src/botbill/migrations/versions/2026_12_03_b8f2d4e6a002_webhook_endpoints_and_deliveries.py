"""Webhooks: endpoints and the delivery outbox

Revision ID: b8f2d4e6a002
Revises: a7e1c3d5f001
Create Date: 2026-12-03 10:00:00.000000

A delivery row is written in the same transaction as the change it reports.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "b8f2d4e6a002"
down_revision: str | None = "a7e1c3d5f001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
