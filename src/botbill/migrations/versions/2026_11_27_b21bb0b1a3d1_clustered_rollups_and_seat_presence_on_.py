"""clustered rollups and seat presence on SQLite (WITHOUT ROWID)

Usage reads take a range of these tables by their primary key. As rowid tables, SQLite
walks the key's index and then looks every row up in the table; clustered on the key
(``WITHOUT ROWID``), the range is one stretch of the table. SQLite cannot change a
table's kind in place, so each is rebuilt. PostgreSQL has no such option: nothing to do.

Revision ID: b21bb0b1a3d1
Revises: 4a8f35c5ff3c
Create Date: 2026-11-27 17:45:39.612210
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "b21bb0b1a3d1"
down_revision: str | None = "4a8f35c5ff3c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _counts() -> list[sa.Column[Any]]:
    return [
        sa.Column("usage_sessions", sa.Integer(), nullable=False),
        sa.Column("alert_sessions", sa.Integer(), nullable=False),
        sa.Column("voice_sessions", sa.Integer(), nullable=False),
    ]


TABLES: dict[str, tuple[Callable[[], list[sa.Column[Any]]], list[str]]] = {
    "seat_presence": (
        lambda: [
            sa.Column("workspace_id", sa.String(length=32), nullable=False),
            sa.Column("slot", sa.BigInteger(), nullable=False),
            sa.Column("seats", sa.LargeBinary(), nullable=False),
        ],
        ["workspace_id", "slot"],
    ),
    "usage_rollups": (
        lambda: [
            sa.Column("workspace_id", sa.String(length=32), nullable=False),
            sa.Column("app_id", sa.String(length=64), nullable=False),
            sa.Column("slot", sa.BigInteger(), nullable=False),
            *_counts(),
        ],
        ["workspace_id", "app_id", "slot"],
    ),
    "workspace_usage_rollups": (
        lambda: [
            sa.Column("workspace_id", sa.String(length=32), nullable=False),
            sa.Column("slot", sa.BigInteger(), nullable=False),
            *_counts(),
        ],
        ["workspace_id", "slot"],
    ),
}


def _rebuild(*, with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, (columns, key) in TABLES.items():
        fresh, fields = f"{name}_rebuilt", columns()
        listed = ", ".join(f'"{column.name}"' for column in fields)
        op.create_table(
            fresh,
            *fields,
            sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{name}")),
            sqlite_with_rowid=with_rowid,
        )
        op.execute(f"INSERT INTO {fresh} ({listed}) SELECT {listed} FROM {name}")
        op.drop_table(name)
        op.rename_table(fresh, name)


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
