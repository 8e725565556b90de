"""Compatibility: API clients, rate-limit counters, conversation and request rollups

Revision ID: c9a3e5f7b003
Revises: b8f2d4e6a002
Create Date: 2026-12-03 10:00:00.000000

Counters for the platform's billingsessionsummary, kept incrementally like the other rollups.
Slots rolled up before this revision count 0 conversations and requests until
``botbill rollups rebuild`` recomputes their workspace.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c9a3e5f7b003"
down_revision: str | None = "b8f2d4e6a002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUPS = ("usage_rollups", "workspace_usage_rollups")


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_api_clients_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
    )
    op.create_index(op.f("ix_api_clients_workspace_id"), "api_clients", ["workspace_id"])
    op.create_table(
        "api_client_request_counts",
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("window", sa.String(length=8), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "client_id", "window", "window_start", name=op.f("pk_api_client_request_counts")
        ),
    )
    op.create_table(
        "summary_jobs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("bot_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_jobs")),
        sa.UniqueConstraint("public_id", name=op.f("uq_summary_jobs_public_id")),
    )
    op.create_index("ix_summary_jobs_caller", "summary_jobs", ["client_id", "bot_id", "id"])
    op.create_table(
        "billable_conversation_sessions",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "workspace_id",
            "app_id",
            "conversation_id",
            "start",
            name=op.f("pk_billable_conversation_sessions"),
        ),
    )
    # Plain ADD COLUMN, not a batch copy: the rollups are large and WITHOUT ROWID on SQLite.
    for table in ROLLUPS:
        op.add_column(
            table, sa.Column("conversations", sa.Integer(), server_default="0", nullable=False)
        )
        op.add_column(
            table, sa.Column("requests", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    for table in ROLLUPS:
        op.drop_column(table, "requests")
        op.drop_column(table, "conversations")
    op.drop_table("billable_conversation_sessions")
    op.drop_index("ix_summary_jobs_caller", table_name="summary_jobs")
    op.drop_table("summary_jobs")
    op.drop_table("api_client_request_counts")
    op.drop_index(op.f("ix_api_clients_workspace_id"), table_name="api_clients")
    op.drop_table("api_clients")
