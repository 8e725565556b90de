"""plans, subscriptions and their periods, ledger, usage charges, orders, operator keys

The default plans are not written here: ``plans/catalog_store.ensure_catalog`` writes any
that are missing on first use.

Revision ID: af93465dc8fd
Revises: 11fede9cff4c
Create Date: 2026-11-27 10:28:38.099399
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "af93465dc8fd"
down_revision: str | None = "11fede9cff4c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "operator_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_keys")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_operator_keys_secret_hash")),
    )
    op.create_table(
        "plans",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=True),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("trial_days", sa.Integer(), nullable=False),
        sa.Column("included_billing_sessions", sa.Integer(), nullable=False),
        sa.Column("included_voice_sessions", sa.Integer(), nullable=False),
        sa.Column("usage_price", sa.BigInteger(), nullable=True),
        sa.Column("alert_price", sa.BigInteger(), nullable=True),
        sa.Column("voice_price", sa.BigInteger(), nullable=True),
        sa.Column("seat_day_price", sa.BigInteger(), nullable=True),
        sa.Column("contract", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_plans")),
    )
    op.create_table(
        "ledger_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("entry_key", sa.String(length=128), nullable=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["ledger_entries.id"], name=op.f("fk_ledger_entries_lot_id_ledger_entries")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "app_id"],
            ["apps.workspace_id", "apps.id"],
            name=op.f("fk_ledger_entries_workspace_id_apps"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint(
            "workspace_id", "entry_key", name=op.f("uq_ledger_entries_workspace_id_entry_key")
        ),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_entries_app_at", ["workspace_id", "app_id", "at"], unique=False
        )
        batch_op.create_index(
            "ix_ledger_entries_expiry",
            ["workspace_id", "expires_at"],
            unique=False,
            sqlite_where=sa.text("expires_at IS NOT NULL"),
            postgresql_where=sa.text("expires_at IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_ledger_entries_lot",
            ["lot_id"],
            unique=False,
            sqlite_where=sa.text("lot_id IS NOT NULL"),
            postgresql_where=sa.text("lot_id IS NOT NULL"),
        )

    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("plan_code", sa.String(length=32), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("credit", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_method", sa.String(length=8), nullable=False),
        sa.Column("payment_status", sa.String(length=8), nullable=False),
        sa.Column("provider_reference", sa.String(length=64), nullable=True),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id", "app_id"],
            ["apps.workspace_id", "apps.id"],
            name=op.f("fk_orders_workspace_id_apps"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_workspace_created", ["workspace_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "subscription_periods",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("plan_code", sa.String(length=32), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("end", sa.BigInteger(), nullable=False),
        sa.Column("fee_paid", sa.BigInteger(), nullable=False),
        sa.Column("included_billing", sa.Integer(), nullable=False),
        sa.Column("included_voice", sa.Integer(), nullable=False),
        sa.Column("drawn_billing", sa.Integer(), nullable=False),
        sa.Column("drawn_voice", sa.Integer(), nullable=False),
        sa.Column("usage_sessions", sa.Integer(), nullable=False),
        sa.Column("alert_sessions", sa.Integer(), nullable=False),
        sa.Column("voice_sessions", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_code"], ["plans.code"], name=op.f("fk_subscription_periods_plan_code_plans")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "app_id"],
            ["apps.workspace_id", "apps.id"],
            name=op.f("fk_subscription_periods_workspace_id_apps"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_periods")),
    )
    with op.batch_alter_table("subscription_periods", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subscription_periods_app_start", ["workspace_id", "app_id", "start"], unique=False
        )

    op.create_table(
        "subscriptions",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("plan_code", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("expired_because", sa.String(length=24), nullable=True),
        sa.Column("anchor", sa.BigInteger(), nullable=False),
        sa.Column("period_index", sa.Integer(), nullable=False),
        sa.Column(
            "period_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("period_start", sa.BigInteger(), nullable=False),
        sa.Column("period_end", sa.BigInteger(), nullable=False),
        sa.Column("unpaid_order_id", sa.String(length=32), nullable=True),
        sa.Column("scheduled_plan_code", sa.String(length=32), nullable=True),
        sa.Column("renew", sa.Boolean(), nullable=False),
        sa.Column("saved_card_token", sa.String(length=128), nullable=True),
        sa.Column("auto_reload_enabled", sa.Boolean(), nullable=False),
        sa.Column("auto_reload_threshold", sa.BigInteger(), nullable=True),
        sa.Column("auto_reload_amount", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["subscription_periods.id"],
            name=op.f("fk_subscriptions_period_id_subscription_periods"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_code"], ["plans.code"], name=op.f("fk_subscriptions_plan_code_plans")
        ),
        sa.ForeignKeyConstraint(
            ["scheduled_plan_code"],
            ["plans.code"],
            name=op.f("fk_subscriptions_scheduled_plan_code_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "app_id"],
            ["apps.workspace_id", "apps.id"],
            name=op.f("fk_subscriptions_workspace_id_apps"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", "app_id", name=op.f("pk_subscriptions")),
    )
    op.create_table(
        "usage_charges",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("billing_session_id", sa.BigInteger(), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column(
            "period_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("plan_code", sa.String(length=32), nullable=False),
        sa.Column("pool", sa.String(length=8), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("charged_at", sa.BigInteger(), nullable=False),
        sa.Column("refunded_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["subscription_periods.id"],
            name=op.f("fk_usage_charges_period_id_subscription_periods"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id", "app_id"],
            ["apps.workspace_id", "apps.id"],
            name=op.f("fk_usage_charges_workspace_id_apps"),
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "billing_session_id", name=op.f("pk_usage_charges")
        ),
    )
    with op.batch_alter_table("usage_charges", schema=None) as batch_op:
        batch_op.create_index("ix_usage_charges_period", ["period_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("usage_charges", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_charges_period")

    op.drop_table("usage_charges")
    op.drop_table("subscriptions")
    with op.batch_alter_table("subscription_periods", schema=None) as batch_op:
        batch_op.drop_index("ix_subscription_periods_app_start")

    op.drop_table("subscription_periods")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_workspace_created")

    op.drop_table("orders")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_ledger_entries_lot",
            sqlite_where=sa.text("lot_id IS NOT NULL"),
            postgresql_where=sa.text("lot_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_ledger_entries_expiry",
            sqlite_where=sa.text("expires_at IS NOT NULL"),
            postgresql_where=sa.text("expires_at IS NOT NULL"),
        )
        batch_op.drop_index("ix_ledger_entries_app_at")

    op.drop_table("ledger_entries")
    op.drop_table("plans")
    op.drop_table("operator_keys")
    op.drop_table("idempotency_keys")
