"""The 15-minute usage rollups (per app and per workspace), moved by exact +1/-1 deltas."""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from botbill.kit.db import insert_rows, table_of
from botbill.metering.models import (
    UsageRollup,
    WorkspaceUsageRollup,
)

CHUNK = 500
COUNT_COLUMNS = ("usage_sessions", "alert_sessions", "voice_sessions", "conversations", "requests")
COLUMN_OF_TYPE = {"usage": 0, "alert": 1, "voice": 2}
CONVERSATIONS, REQUESTS = 3, 4
"""Where the billable conversation sessions and their requests sit in a delta."""

Deltas = dict[tuple[str, int], list[int]]  # (app_id, slot) -> counts in COUNT_COLUMNS order


def _zeros() -> list[int]:
    return [0] * len(COUNT_COLUMNS)


def new_deltas() -> Deltas:
    """Rollup moves to gather over a unit of work and apply once (:func:`bump_rollups`)."""
    return defaultdict(_zeros)


def bump_rollups(session: Session, workspace_id: str, deltas: Deltas) -> None:
    """Add the deltas to both rollups, in key order so concurrent writers never deadlock."""
    app_rows = [
        {
            "workspace_id": workspace_id,
            "app_id": app_id,
            "slot": slot,
            **dict(zip(COUNT_COLUMNS, counts, strict=True)),
        }
        for (app_id, slot), counts in sorted(deltas.items())
        if any(counts)
    ]
    if not app_rows:
        return
    per_slot: dict[int, list[int]] = defaultdict(_zeros)
    for (_app_id, slot), counts in deltas.items():
        for index, count in enumerate(counts):
            per_slot[slot][index] += count
    workspace_rows = [
        {
            "workspace_id": workspace_id,
            "slot": slot,
            **dict(zip(COUNT_COLUMNS, counts, strict=True)),
        }
        for slot, counts in sorted(per_slot.items())
        if any(counts)
    ]
    for model, rows, keys in (
        (UsageRollup, app_rows, ["workspace_id", "app_id", "slot"]),
        (WorkspaceUsageRollup, workspace_rows, ["workspace_id", "slot"]),
    ):
        table = table_of(model)
        add = partial(_add_counts, table, keys)
        for start in range(0, len(rows), CHUNK):
            insert_rows(session, table, rows[start : start + CHUNK], on_conflict=add)


def _add_counts(table: Table, keys: list[str], statement: Any) -> Any:
    """An upsert that adds the counts to a row already there."""
    return statement.on_conflict_do_update(
        index_elements=keys,
        set_={column: table.c[column] + statement.excluded[column] for column in COUNT_COLUMNS},
    )
