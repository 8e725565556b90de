"""Rating queue and seat days; billing-session ids never reused on SQLite

Revision ID: 5e1f0a7c2b9d
Revises: fbfd4983f83d
Create Date: 2026-11-27 12:32:51.217392
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1f0a7c2b9d"
down_revision: str | None = "fbfd4983f83d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Charges are keyed by billing-session id, so SQLite must never hand out an id
        # again after the newest row was deleted: AUTOINCREMENT (PostgreSQL never does).
        with op.batch_alter_table(
            "billing_sessions", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass
    op.create_table(
        "rating_queue",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("billing_session_id", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("sign", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_queue")),
    )
    with op.batch_alter_table("rating_queue", schema=None) as batch_op:
        batch_op.create_index("ix_rating_queue_app", ["workspace_id", "app_id"], unique=False)

    op.create_table(
        "seat_day_queue",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("day_start", sa.BigInteger(), nullable=False),
        sa.Column("day_end", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "workspace_id", "app_id", "day_start", name=op.f("pk_seat_day_queue")
        ),
    )
    with op.batch_alter_table("seat_day_queue", schema=None) as batch_op:
        batch_op.create_index("ix_seat_day_queue_day_end", ["day_end"], unique=False)

    op.create_table(
        "seat_day_sweeps",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("swept_until", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_seat_day_sweeps")),
    )
    op.create_table(
        "seat_day_charges",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("day_start", sa.BigInteger(), nullable=False),
        sa.Column("day_end", sa.BigInteger(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column(
            "period_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("plan_code", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["subscription_periods.id"],
            name=op.f("fk_seat_day_charges_period_id_subscription_periods"),
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "app_id", "day_start", name=op.f("pk_seat_day_charges")
        ),
    )


def downgrade() -> None:
    op.drop_table("seat_day_charges")
    op.drop_table("seat_day_sweeps")
    with op.batch_alter_table("seat_day_queue", schema=None) as batch_op:
        batch_op.drop_index("ix_seat_day_queue_day_end")

    op.drop_table("seat_day_queue")
    with op.batch_alter_table("rating_queue", schema=None) as batch_op:
        batch_op.drop_index("ix_rating_queue_app")

    op.drop_table("rating_queue")
