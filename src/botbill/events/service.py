"""Events against the workspace's rules (known app, time window), and storing each once.

The store is insert-only with ``ON CONFLICT DO NOTHING`` on the event's identity; what
comes back is what is new (``ingest/service.py`` hands that to metering).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.events.records import EventRecord
from botbill.kit.instants import DAY, SECOND, Micros
from botbill.kit.problems import FieldError, Invalid
from botbill.workspaces.models import App


@dataclass(frozen=True, slots=True)
class TimeLimits:
    """How far from ``now`` an event's time may lie (API.md, Events)."""

    max_future: Micros = 300 * SECOND
    max_age: Micros | None = 35 * DAY  # None: no limit (``botbill import``)


def check(
    session: Session,
    workspace_id: str,
    events: Sequence[EventRecord],
    *,
    now: Micros,
    limits: TimeLimits,
) -> list[FieldError]:
    """The errors of the events that break a workspace rule: an unknown app, a time
    too far ahead or (for the HTTP API) older than the backfill window."""
    subjects = {event.app_id for event in events}
    known = set(
        session.scalars(
            select(App.id).where(App.workspace_id == workspace_id, App.id.in_(subjects))
        )
    )
    errors: list[FieldError] = []
    earliest = None if limits.max_age is None else now - limits.max_age
    latest = now + limits.max_future
    for index, event in enumerate(events):
        if event.app_id not in known:
            errors.append(FieldError(["events", index, "subject"], f"unknown app {event.app_id!r}"))
        if event.time > latest:
            ahead = f"{limits.max_future // SECOND} s"
            errors.append(
                FieldError(
                    ["events", index, "time"],
                    f"time is more than {ahead} ahead of the server's clock",
                )
            )
        elif earliest is not None and limits.max_age is not None and event.time < earliest:
            errors.append(
                FieldError(
                    ["events", index, "time"],
                    f"time is older than the backfill window ({limits.max_age // DAY} days); "
                    "use `botbill import` for older history",
                )
            )
    return errors


def invalid_batch(errors: Sequence[FieldError]) -> Invalid:
    bad = sorted({int(error.loc[1]) for error in errors})
    listed = ", ".join(map(str, bad[:20])) + (", ..." if len(bad) > 20 else "")
    return Invalid(
        f"{len(bad)} invalid event(s), at index {listed}; nothing was stored", errors=errors[:100]
    )


# The stored columns: the workspace and the arrival, then an EventRecord's fields.
STORED_COLUMNS = ("workspace_id", "ingested_at", *EventRecord._fields)


def store(
    session: Session, workspace_id: str, events: Iterable[EventRecord], *, now: Micros
) -> list[EventRecord]:
    """Insert the events not seen before; returns them. The first of two with one
    identity wins."""
    unique: dict[tuple[str, str], EventRecord] = {}
    for event in events:
        unique.setdefault((event.source, event.event_id), event)
    if not unique:
        return []
    rows = [(workspace_id, now, *event) for event in unique.values()]
    if session.get_bind().dialect.name == "sqlite":
        added = _store_sqlite(session, rows)
    else:
        added = _store_postgresql(session, rows)
    return [event for key, event in unique.items() if key in added]


def _store_postgresql(session: Session, rows: list[tuple[Any, ...]]) -> set[tuple[str, str]]:
    # COPY into a per-connection staging table, then one INSERT ... SELECT: a multi-row
    # VALUES statement of a thousand events costs psycopg more to parse than PostgreSQL
    # to run. Concurrent writers may race on one identity: ON CONFLICT decides.
    connection = session.connection()
    driver = connection.connection.driver_connection
    assert driver is not None
    columns = ", ".join(STORED_COLUMNS)
    with driver.cursor() as cursor:
        if not connection.info.get("events_staging"):
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS events_staging"
                " (LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            connection.info["events_staging"] = True
        with cursor.copy(f"COPY events_staging ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # In identity order: two writers inserting overlapping batches then wait for each
        # other in one order, never in a cycle.
        cursor.execute(
            f"INSERT INTO events ({columns}) SELECT {columns} FROM events_staging"
            " ORDER BY source, event_id"
            " ON CONFLICT (workspace_id, source, event_id) DO NOTHING"
            " RETURNING source, event_id"
        )
        added = {(source, event_id) for source, event_id in cursor.fetchall()}
        cursor.execute("TRUNCATE events_staging")
    return added


def _store_sqlite(session: Session, rows: list[tuple[Any, ...]]) -> set[tuple[str, str]]:
    # A writing unit holds SQLite's lock from its first statement (BEGIN IMMEDIATE), so
    # the rows numbered above the highest ``seq`` before the insert are exactly the ones
    # it added: a plain executemany that skips known identities, with no lookup before it
    # and no RETURNING (which executemany cannot give).
    columns = ", ".join(STORED_COLUMNS)
    placeholders = ", ".join("?" * len(STORED_COLUMNS))
    cursor = session.connection().connection.cursor()
    try:
        (highest,) = cursor.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
        cursor.executemany(
            f"INSERT INTO events ({columns}) VALUES ({placeholders})"
            " ON CONFLICT (workspace_id, source, event_id) DO NOTHING",
            rows,
        )
        return set(cursor.execute("SELECT source, event_id FROM events WHERE seq > ?", (highest,)))
    finally:
        cursor.close()
