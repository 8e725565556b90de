"""conversations: index due_at per workspace

Revision ID: c977e4b84c32
Revises: 1bce2008670d
Create Date: 2026-11-27 10:13:41.082449
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "c977e4b84c32"
down_revision: str | None = "1bce2008670d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversations_workspace_due_at", ["workspace_id", "due_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_workspace_due_at")
