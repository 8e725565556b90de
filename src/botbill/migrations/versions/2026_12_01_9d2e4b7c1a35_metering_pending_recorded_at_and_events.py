"""metering pending: recorded_at and events

Revision ID: 9d2e4b7c1a35
Revises: 7c3d9e2a41f0
Create Date: 2026-12-01 16:30:00.000000

When ingest stored a pending row, and how many new events it stands for: the backlog a
workspace may have before ingest answers 429, and how far behind an entitlement answer
is (``as_of``). Rows waiting at the upgrade count as one event recorded at their latest
event's time.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d2e4b7c1a35"
down_revision: str | None = "7c3d9e2a41f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("metering_pending", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("events", sa.Integer(), nullable=True))
    op.execute("UPDATE metering_pending SET recorded_at = last_event, events = 1")
    with op.batch_alter_table("metering_pending", schema=None) as batch_op:
        batch_op.alter_column("recorded_at", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("events", existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("metering_pending", schema=None) as batch_op:
        batch_op.drop_column("events")
        batch_op.drop_column("recorded_at")
