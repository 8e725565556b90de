"""seat lookups by app and agent

Revision ID: fbfd4983f83d
Revises: af93465dc8fd
Create Date: 2026-11-27 10:34:01.347919
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fbfd4983f83d"
down_revision: str | None = "af93465dc8fd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_events_agent_id"), sqlite_where=sa.text("agent_id IS NOT NULL")
        )
        batch_op.create_index(
            "ix_events_agent_id",
            ["workspace_id", "app_id", "agent_id"],
            unique=False,
            sqlite_where=sa.text("agent_id IS NOT NULL"),
            postgresql_where=sa.text("agent_id IS NOT NULL"),
        )

    with op.batch_alter_table("seat_intervals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seat_intervals_agent_id"))
        batch_op.create_index(
            "ix_seat_intervals_agent_id", ["workspace_id", "app_id", "agent_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("seat_intervals", schema=None) as batch_op:
        batch_op.drop_index("ix_seat_intervals_agent_id")
        batch_op.create_index(
            batch_op.f("ix_seat_intervals_agent_id"), ["workspace_id", "agent_id"], unique=False
        )

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_events_agent_id",
            sqlite_where=sa.text("agent_id IS NOT NULL"),
            postgresql_where=sa.text("agent_id IS NOT NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_events_agent_id"),
            ["workspace_id", "agent_id"],
            unique=False,
            sqlite_where=sa.text("agent_id IS NOT NULL"),
        )
