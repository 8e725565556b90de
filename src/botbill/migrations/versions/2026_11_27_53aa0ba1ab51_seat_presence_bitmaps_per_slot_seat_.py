"""seat presence bitmaps per slot, seat ordinals

Existing seat intervals get no bits here: run `botbill rollups rebuild` after upgrading a
database that already holds seat events.

Revision ID: 53aa0ba1ab51
Revises: 2e32fe4ca91a
Create Date: 2026-11-27 10:21:45.291657
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "53aa0ba1ab51"
down_revision: str | None = "2e32fe4ca91a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seat_ordinal_counters",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("next_ordinal", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_seat_ordinal_counters")),
    )
    op.create_table(
        "seat_presence",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("seats", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "slot", name=op.f("pk_seat_presence")),
    )
    with op.batch_alter_table("agent_seats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ordinal", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agent_seats", schema=None) as batch_op:
        batch_op.drop_column("ordinal")

    op.drop_table("seat_presence")
    op.drop_table("seat_ordinal_counters")
