"""lookup indexes on one id column

Revision ID: 2e32fe4ca91a
Revises: c977e4b84c32
Create Date: 2026-11-27 10:19:37.622147
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2e32fe4ca91a"
down_revision: str | None = "c977e4b84c32"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("billing_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_sessions_conversation"))
        batch_op.create_index(
            "ix_billing_sessions_conversation_id",
            ["workspace_id", "conversation_id"],
            unique=False,
            sqlite_where=sa.text("conversation_id IS NOT NULL"),
            postgresql_where=sa.text("conversation_id IS NOT NULL"),
        )

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_agent"))
        batch_op.drop_index(batch_op.f("ix_events_conversation"))
        batch_op.create_index(
            "ix_events_agent_id",
            ["workspace_id", "agent_id"],
            unique=False,
            sqlite_where=sa.text("agent_id IS NOT NULL"),
            postgresql_where=sa.text("agent_id IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_events_conversation_id",
            ["workspace_id", "conversation_id"],
            unique=False,
            sqlite_where=sa.text("conversation_id IS NOT NULL"),
            postgresql_where=sa.text("conversation_id IS NOT NULL"),
        )

    with op.batch_alter_table("seat_intervals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seat_intervals_agent"))
        batch_op.create_index(
            "ix_seat_intervals_agent_id", ["workspace_id", "agent_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("seat_intervals", schema=None) as batch_op:
        batch_op.drop_index("ix_seat_intervals_agent_id")
        batch_op.create_index(
            batch_op.f("ix_seat_intervals_agent"),
            ["workspace_id", "app_id", "agent_id"],
            unique=False,
        )

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_events_conversation_id",
            sqlite_where=sa.text("conversation_id IS NOT NULL"),
            postgresql_where=sa.text("conversation_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_events_agent_id",
            sqlite_where=sa.text("agent_id IS NOT NULL"),
            postgresql_where=sa.text("agent_id IS NOT NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_events_conversation"),
            ["workspace_id", "app_id", "conversation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_events_agent"), ["workspace_id", "app_id", "agent_id"], unique=False
        )

    with op.batch_alter_table("billing_sessions", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_billing_sessions_conversation_id",
            sqlite_where=sa.text("conversation_id IS NOT NULL"),
            postgresql_where=sa.text("conversation_id IS NOT NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_billing_sessions_conversation"),
            ["workspace_id", "app_id", "conversation_id"],
            unique=False,
        )
