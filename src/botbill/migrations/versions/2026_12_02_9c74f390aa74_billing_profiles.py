"""Billing profiles: each workspace's and the seller's

Revision ID: 9c74f390aa74
Revises: 9d2e4b7c1a35
Create Date: 2026-12-02 09:00:00.000000

A row exists once someone set the profile; until then a workspace is billed under its
name and the seller is the ``BOTBILL_SELLER_*`` settings.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c74f390aa74"
down_revision: str | None = "9d2e4b7c1a35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seller_profile",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("address_lines", sa.JSON(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("tax_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_profile")),
    )
    op.create_table(
        "billing_profiles",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("address_lines", sa.JSON(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("tax_id", sa.String(length=64), nullable=True),
        sa.Column("billing_email", sa.String(length=254), nullable=True),
        sa.Column("tax_rate", sa.String(length=12), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_billing_profiles_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_billing_profiles")),
    )


def downgrade() -> None:
    op.drop_table("billing_profiles")
    op.drop_table("seller_profile")
