"""seat-day queue append-only

Revision ID: 7c3d9e2a41f0
Revises: b21bb0b1a3d1
Create Date: 2026-12-01 16:10:00.000000

The queue was keyed by (workspace, app, day) and re-queued with ON CONFLICT DO NOTHING:
a day queued again while a rater held its row kept the rater's stale count. Rows are now
appended and the rater deletes the ids it took; the rows waiting are carried over
(a downgrade folds a day's rows back into one).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3d9e2a41f0"
down_revision: str | None = "b21bb0b1a3d1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = ["workspace_id", "app_id", "day_start"]


def _columns() -> list[sa.Column[int] | sa.Column[str]]:
    return [
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("day_start", sa.BigInteger(), nullable=False),
        sa.Column("day_end", sa.BigInteger(), nullable=False),
    ]


def _waiting() -> list[dict[str, object]]:
    """The rows waiting (the queue is small: days not yet rated), to carry over."""
    rows = op.get_bind().execute(
        sa.text("SELECT DISTINCT workspace_id, app_id, day_start, day_end FROM seat_day_queue")
    )
    return [dict(row._mapping) for row in rows]


def upgrade() -> None:
    waiting = _waiting()
    op.drop_index("ix_seat_day_queue_day_end", table_name="seat_day_queue")
    op.drop_table("seat_day_queue")
    table = op.create_table(
        "seat_day_queue",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        *_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seat_day_queue")),
    )
    op.create_index("ix_seat_day_queue_day_end", "seat_day_queue", ["day_end"])
    op.create_index("ix_seat_day_queue_app_day", "seat_day_queue", _KEY)
    if waiting and table is not None:
        op.bulk_insert(table, waiting)


def downgrade() -> None:
    waiting = _waiting()
    op.drop_index("ix_seat_day_queue_app_day", table_name="seat_day_queue")
    op.drop_index("ix_seat_day_queue_day_end", table_name="seat_day_queue")
    op.drop_table("seat_day_queue")
    table = op.create_table(
        "seat_day_queue",
        *_columns(),
        sa.PrimaryKeyConstraint(*_KEY, name=op.f("pk_seat_day_queue")),
    )
    op.create_index("ix_seat_day_queue_day_end", "seat_day_queue", ["day_end"])
    if waiting and table is not None:
        op.bulk_insert(table, waiting)
