"""Metering pending work: conversations and seats stored but not metered yet

Revision ID: 5bb7e69ee69a
Revises: b008a88c756b
Create Date: 2026-11-27 12:52:50.472730
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5bb7e69ee69a"
down_revision: str | None = "b008a88c756b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metering_pending",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("last_event", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metering_pending")),
    )
    with op.batch_alter_table("metering_pending", schema=None) as batch_op:
        batch_op.create_index("ix_metering_pending_workspace", ["workspace_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("metering_pending", schema=None) as batch_op:
        batch_op.drop_index("ix_metering_pending_workspace")

    op.drop_table("metering_pending")
