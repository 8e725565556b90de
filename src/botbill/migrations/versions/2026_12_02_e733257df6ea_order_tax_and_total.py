"""Orders: tax rate, tax and total beside the net amount

Revision ID: e733257df6ea
Revises: 9c74f390aa74
Create Date: 2026-12-02 10:00:00.000000

Orders placed before carry no tax: rate 0, tax 0, total = amount (what was charged).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e733257df6ea"
down_revision: str | None = "9c74f390aa74"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_rate", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("tax", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("total", sa.BigInteger(), nullable=True))
    op.execute("UPDATE orders SET tax_rate = '0', tax = 0, total = amount")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column("tax_rate", existing_type=sa.String(length=12), nullable=False)
        batch_op.alter_column("tax", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("total", existing_type=sa.BigInteger(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("total")
        batch_op.drop_column("tax")
        batch_op.drop_column("tax_rate")
