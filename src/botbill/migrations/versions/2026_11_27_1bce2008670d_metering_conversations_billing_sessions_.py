"""metering: conversations, billing sessions, rollups, seats

Revision ID: 1bce2008670d
Revises: 84bd892c7a9c
Create Date: 2026-11-27 10:02:35.929580
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1bce2008670d"
down_revision: str | None = "84bd892c7a9c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_seats",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "app_id", "agent_id", name=op.f("pk_agent_seats")),
    )
    op.create_table(
        "billing_sessions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=True),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        sa.Column("conversation_session_start", sa.BigInteger(), nullable=True),
        sa.Column("conversation_session_end", sa.BigInteger(), nullable=True),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("end", sa.BigInteger(), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_sessions")),
    )
    with op.batch_alter_table("billing_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_billing_sessions_app_start", ["workspace_id", "app_id", "start"], unique=False
        )
        batch_op.create_index(
            "ix_billing_sessions_conversation",
            ["workspace_id", "app_id", "conversation_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_billing_sessions_workspace_start", ["workspace_id", "start"], unique=False
        )

    op.create_table(
        "conversations",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("last_event", sa.BigInteger(), nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint(
            "workspace_id", "app_id", "conversation_id", name=op.f("pk_conversations")
        ),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index("ix_conversations_due_at", ["due_at"], unique=False)

    op.create_table(
        "seat_intervals",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=128), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("end", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seat_intervals")),
    )
    with op.batch_alter_table("seat_intervals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_seat_intervals_agent", ["workspace_id", "app_id", "agent_id"], unique=False
        )
        batch_op.create_index(
            "ix_seat_intervals_workspace_start", ["workspace_id", "start"], unique=False
        )

    op.create_table(
        "usage_rollups",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("usage_sessions", sa.Integer(), nullable=False),
        sa.Column("alert_sessions", sa.Integer(), nullable=False),
        sa.Column("voice_sessions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "app_id", "slot", name=op.f("pk_usage_rollups")),
    )
    op.create_table(
        "workspace_usage_rollups",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("usage_sessions", sa.Integer(), nullable=False),
        sa.Column("alert_sessions", sa.Integer(), nullable=False),
        sa.Column("voice_sessions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "slot", name=op.f("pk_workspace_usage_rollups")),
    )


def downgrade() -> None:
    op.drop_table("workspace_usage_rollups")
    op.drop_table("usage_rollups")
    with op.batch_alter_table("seat_intervals", schema=None) as batch_op:
        batch_op.drop_index("ix_seat_intervals_workspace_start")
        batch_op.drop_index("ix_seat_intervals_agent")

    op.drop_table("seat_intervals")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_due_at")

    op.drop_table("conversations")
    with op.batch_alter_table("billing_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_billing_sessions_workspace_start")
        batch_op.drop_index("ix_billing_sessions_conversation")
        batch_op.drop_index("ix_billing_sessions_app_start")

    op.drop_table("billing_sessions")
    op.drop_table("agent_seats")
