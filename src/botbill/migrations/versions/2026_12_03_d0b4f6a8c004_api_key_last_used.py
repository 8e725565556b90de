"""API keys: last use, kept at most once a minute per key; audit targets of long emails

Revision ID: d0b4f6a8c004
Revises: c9a3e5f7b003
Create Date: 2026-12-03 10:00:00.000000

``audit_log.target`` grows from 200 to 320 characters: ``member:`` and an email of 254
did not fit, and PostgreSQL refused the member's creation with a 500 (found by fuzzing).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d0b4f6a8c004"
down_revision: str | None = "c9a3e5f7b003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column(
            "target", existing_type=sa.String(200), type_=sa.String(320), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column(
            "target", existing_type=sa.String(320), type_=sa.String(200), existing_nullable=False
        )
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("last_used_at")
