"""Ingest: check events against the workspace, store each once, and leave what is new to
metering.

An ingest call is one unit of work: the raw events and the pending rows naming the
conversations and seats they touch are stored together or not at all; the metering drain
(``metering/pending.py``) recomputes those, and every read that must reflect the events
drains its workspace first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.apps.models import App
from botbill.events.models import Event
from botbill.events.records import EventRecord
from botbill.events.schemas import CONVERSATION_TYPES, SEAT_TYPES
from botbill.kit.db import table_of
from botbill.kit.instants import DAY, SECOND, Micros
from botbill.kit.problems import FieldError, Invalid
from botbill.metering import pending
from botbill.metering import service as metering
from botbill.metering.pending import conversation_histories, idle_timeouts, seat_histories


@dataclass(frozen=True, slots=True)
class TimeLimits:
    """How far from ``now`` an event's time may lie (API.md, Events)."""

    max_future: Micros = 300 * SECOND
    max_age: Micros | None = 35 * DAY  # None: no limit (``botbill import``)


@dataclass(frozen=True, slots=True)
class IngestCounts:
    accepted: int
    duplicates: int


def ingest(
    session: Session,
    *,
    workspace_id: str,
    events: Sequence[EventRecord],
    now: Micros,
    limits: TimeLimits,
) -> IngestCounts:
    """Store a batch, all of it or (422) none of it, and leave its metering pending."""
    errors = check(session, workspace_id, events, now=now, limits=limits)
    if errors:
        raise invalid_batch(errors)
    fresh = store(session, workspace_id, events, now=now)
    if fresh:
        record_new(session, workspace_id=workspace_id, fresh=fresh)
    return IngestCounts(accepted=len(fresh), duplicates=len(events) - len(fresh))


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


def record_new(session: Session, *, workspace_id: str, fresh: Iterable[EventRecord]) -> None:
    """Leave the conversations and seats the new events touch to the metering drain.

    Alerts are counted at once: each is one completed billing session, with no history to
    read, and the rating queue holds it as soon as the call returns.
    """
    conversations, seats, alerts = _touched(fresh)
    pending.record(session, workspace_id=workspace_id, conversations=conversations, seats=seats)
    if alerts:
        metering.add_alerts(session, workspace_id=workspace_id, alerts=alerts)


def meter_new(
    session: Session, *, workspace_id: str, fresh: Iterable[EventRecord], now: Micros
) -> None:
    """Recompute at once what the new events touch: their conversations, seats and alerts
    (``botbill import``, whose batches are large enough to meter in place).

    Each conversation and seat is locked before its history is read, so two concurrent
    writers of one conversation take turns and the second sees the first one's events.
    """
    conversations, seats, alerts = _touched(fresh)
    pending.meter(
        session,
        workspace_id=workspace_id,
        conversations=conversations,
        seats=seats,
        alerts=alerts,
        now=now,
    )


def _touched(
    fresh: Iterable[EventRecord],
) -> tuple[dict[tuple[str, str], Micros], dict[tuple[str, str], Micros], list[tuple[str, Micros]]]:
    """The conversations and seats new events touch (with the latest such event), and
    the delivered alerts that count."""
    conversations: dict[tuple[str, str], Micros] = {}
    seats: dict[tuple[str, str], Micros] = {}
    alerts: list[tuple[str, Micros]] = []
    for event in fresh:
        kind, time = event.type, event.time
        if kind in CONVERSATION_TYPES and event.conversation_id is not None:
            key = (event.app_id, event.conversation_id)
            conversations[key] = max(conversations.get(key, time), time)
        elif kind in SEAT_TYPES and event.agent_id is not None:
            key = (event.app_id, event.agent_id)
            seats[key] = max(seats.get(key, time), time)
        elif kind == "alert.delivered" and not event.developer:
            alerts.append((event.app_id, time))
    return conversations, seats, alerts


REBUILD_CHUNK = 2_000


def rebuild(session: Session, *, workspace_id: str, now: Micros) -> int:
    """Recompute every billing session, seat and rollup of a workspace from raw events.

    One transaction: readers see the old figures or the new ones, never a half-built
    state. Returns the number of raw events read.
    """
    metering.reset(session, workspace_id=workspace_id)
    t = table_of(Event).c
    seen = 0
    alerts: list[tuple[str, Micros]] = []
    query = (
        select(t.type, t.app_id, t.time, t.developer)
        .where(t.workspace_id == workspace_id, t.type == "alert.delivered")
        .execution_options(yield_per=10_000)
    )
    for _kind, app_id, time, developer in session.execute(query):
        seen += 1
        if not developer:
            alerts.append((app_id, time))
        if len(alerts) >= 10_000:
            metering.add_alerts(session, workspace_id=workspace_id, alerts=alerts)
            alerts = []
    if alerts:
        metering.add_alerts(session, workspace_id=workspace_id, alerts=alerts)

    conversation_keys: list[tuple[str, str]] = [
        (app_id, conversation_id)
        for app_id, conversation_id in session.execute(
            select(t.app_id, t.conversation_id)
            .where(
                t.workspace_id == workspace_id,
                t.conversation_id.is_not(None),
                t.type.in_(CONVERSATION_TYPES),
            )
            .distinct()
        )
    ]
    for start in range(0, len(conversation_keys), REBUILD_CHUNK):
        keys = set(conversation_keys[start : start + REBUILD_CHUNK])
        histories = conversation_histories(session, workspace_id, keys)
        seen += sum(len(events) for events in histories.values())
        metering.lock_conversations(
            session,
            workspace_id=workspace_id,
            keys=keys,
            last_events={key: max(e.time for e in events) for key, events in histories.items()},
        )
        metering.apply_conversations(
            session,
            workspace_id=workspace_id,
            histories=histories,
            idle_timeouts=idle_timeouts(session, workspace_id, {app for app, _ in keys}),
            now=now,
        )

    seat_keys = {
        (app_id, agent_id)
        for app_id, agent_id in session.execute(
            select(t.app_id, t.agent_id)
            .where(t.workspace_id == workspace_id, t.type.in_(SEAT_TYPES))
            .distinct()
        )
    }
    if seat_keys:
        metering.lock_seats(session, workspace_id=workspace_id, keys=seat_keys)
        seat_events = seat_histories(session, workspace_id, seat_keys)
        seen += sum(len(events) for events in seat_events.values())
        metering.apply_seats(session, workspace_id=workspace_id, histories=seat_events)
    return seen
