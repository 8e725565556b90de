"""index open seat intervals

Revision ID: 11fede9cff4c
Revises: 53aa0ba1ab51
Create Date: 2026-11-27 10:27:33.363499
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "11fede9cff4c"
down_revision: str | None = "53aa0ba1ab51"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("seat_intervals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_seat_intervals_open",
            ["workspace_id", "start"],
            unique=False,
            sqlite_where=sa.text('"end" IS NULL'),
            postgresql_where=sa.text('"end" IS NULL'),
        )


def downgrade() -> None:
    with op.batch_alter_table("seat_intervals", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_seat_intervals_open",
            sqlite_where=sa.text('"end" IS NULL'),
            postgresql_where=sa.text('"end" IS NULL'),
        )
