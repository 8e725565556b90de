"""Running balances: each app's ledger sum, kept with every booking

Revision ID: 4a8f35c5ff3c
Revises: 5bb7e69ee69a
Create Date: 2026-11-27 13:22:07.727347
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4a8f35c5ff3c"
down_revision: str | None = "5bb7e69ee69a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "balances",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "app_id"],
            ["apps.workspace_id", "apps.id"],
            name=op.f("fk_balances_workspace_id_apps"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", "app_id", name=op.f("pk_balances")),
    )
    # The ledger so far, summed once; from here on every booking moves its row.
    op.execute(
        "INSERT INTO balances (workspace_id, app_id, amount, entries) "
        "SELECT workspace_id, app_id, sum(amount), count(*) FROM ledger_entries "
        "GROUP BY workspace_id, app_id"
    )


def downgrade() -> None:
    op.drop_table("balances")
