"""Ingest: check events against the workspace, store each once, and meter what is new.

An ingest call is one unit of work: the raw events, the conversations they touch, the
billing sessions and the rollups move together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.apps.models import App
from botbill.events.models import Event
from botbill.events.schemas import CONVERSATION_TYPES, SEAT_TYPES, AnyEvent, extensions_of
from botbill.kit.batching import chunked, rows_in
from botbill.kit.db import table_of
from botbill.kit.instants import DAY, SECOND, Micros, to_micros
from botbill.kit.problems import FieldError, Invalid
from botbill.metering import service as metering
from botbill.metering.conversations import ConversationEvent, EventKind
from botbill.metering.seats import SeatEvent, SeatEventKind

HISTORY_CHUNK = 500
SEAT_CHUNK = 50


@dataclass(frozen=True, slots=True)
class TimeLimits:
    """How far from ``now`` an event's time may lie (API.md, Events)."""

    max_future: Micros = 300 * SECOND
    max_age: Micros | None = 35 * DAY  # None: no limit (``botbill import``)


@dataclass(slots=True)
class IngestCounts:
    accepted: int = 0
    duplicates: int = 0
    rejected_lines: list[int] = field(default_factory=list)


def ingest(
    session: Session,
    *,
    workspace_id: str,
    events: Sequence[AnyEvent],
    now: Micros,
    limits: TimeLimits,
    loc_prefix: str = "events",
) -> IngestCounts:
    """Store and meter a batch: all of it, or (422) none of it."""
    rows, errors = convert(
        session, workspace_id, events, now=now, limits=limits, loc_prefix=loc_prefix
    )
    if errors:
        raise invalid_batch(errors)
    fresh = store(session, rows)
    if fresh:
        meter_new(session, workspace_id=workspace_id, fresh=fresh, now=now)
    return IngestCounts(accepted=len(fresh), duplicates=len(events) - len(fresh))


def convert(
    session: Session,
    workspace_id: str,
    events: Sequence[AnyEvent],
    *,
    now: Micros,
    limits: TimeLimits,
    loc_prefix: str = "events",
) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """The events as table rows, and the errors of those that break a workspace rule."""
    subjects = {event.subject for event in events}
    known = set(
        session.scalars(
            select(App.id).where(App.workspace_id == workspace_id, App.id.in_(subjects))
        )
    )
    errors: list[FieldError] = []
    rows: list[dict[str, Any]] = []
    earliest = None if limits.max_age is None else now - limits.max_age
    latest = now + limits.max_future
    for index, event in enumerate(events):
        time = to_micros(event.time)
        if event.subject not in known:
            errors.append(
                FieldError([loc_prefix, index, "subject"], f"unknown app {event.subject!r}")
            )
        if time > latest:
            ahead = f"{limits.max_future // SECOND} s"
            errors.append(
                FieldError(
                    [loc_prefix, index, "time"],
                    f"time is more than {ahead} ahead of the server's clock",
                )
            )
        elif earliest is not None and limits.max_age is not None and time < earliest:
            errors.append(
                FieldError(
                    [loc_prefix, index, "time"],
                    f"time is older than the backfill window ({limits.max_age // DAY} days); "
                    "use `botbill import` for older history",
                )
            )
        rows.append(_row(workspace_id, event, time, now))
    return rows, errors


def invalid_batch(errors: Sequence[FieldError]) -> Invalid:
    bad = sorted({int(error.loc[1]) for error in errors})
    listed = ", ".join(map(str, bad[:20])) + (", ..." if len(bad) > 20 else "")
    return Invalid(
        f"{len(bad)} invalid event(s), at index {listed}; nothing was stored", errors=errors[:100]
    )


def _row(workspace_id: str, event: AnyEvent, time: Micros, now: Micros) -> dict[str, Any]:
    data = event.data.model_dump(mode="json", exclude_unset=True)
    return {
        "workspace_id": workspace_id,
        "source": event.source,
        "event_id": event.id,
        "type": event.type,
        "app_id": event.subject,
        "time": time,
        "ingested_at": now,
        "conversation_id": data.get("conversation_id"),
        "agent_id": data.get("agent_id"),
        "sender": data.get("sender"),
        "channel": data.get("channel"),
        "developer": data.get("developer", False),
        "data": data,
        "extensions": extensions_of(event),
    }


def store(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert the rows not seen before; the first of two with one identity wins."""
    unique: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        unique.setdefault((row["source"], row["event_id"]), row)
    if not unique:
        return []
    if session.get_bind().dialect.name == "sqlite":
        return _store_sqlite(session, unique)
    return _store_postgresql(session, list(unique.values()))


STORED_COLUMNS = (
    "workspace_id",
    "source",
    "event_id",
    "type",
    "app_id",
    "time",
    "ingested_at",
    "conversation_id",
    "agent_id",
    "sender",
    "channel",
    "developer",
    "data",
    "extensions",
)


def _store_postgresql(session: Session, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
            for row in candidates:
                copy.write_row(
                    [
                        _json_text(row[column]) if column in ("data", "extensions") else row[column]
                        for column in STORED_COLUMNS
                    ]
                )
        cursor.execute(
            f"INSERT INTO events ({columns}) SELECT {columns} FROM events_staging"
            " ON CONFLICT (workspace_id, source, event_id) DO NOTHING"
            " RETURNING source, event_id"
        )
        inserted = {(source, event_id) for source, event_id in cursor.fetchall()}
        cursor.execute("TRUNCATE events_staging")
    return [row for row in candidates if (row["source"], row["event_id"]) in inserted]


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _store_sqlite(
    session: Session, unique: dict[tuple[str, str], dict[str, Any]]
) -> list[dict[str, Any]]:
    # A writing unit holds SQLite's lock from its first statement (BEGIN IMMEDIATE), so
    # what this lookup finds absent stays absent until the insert: a plain executemany,
    # several times cheaper than INSERT ... RETURNING.
    t = table_of(Event).c
    workspace_id = next(iter(unique.values()))["workspace_id"]
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, event_id in unique:
        by_source[source].append(event_id)
    for source, event_ids in by_source.items():
        for start in range(0, len(event_ids), HISTORY_CHUNK):
            query = select(t.event_id).where(
                t.workspace_id == workspace_id,
                t.source == source,
                t.event_id.in_(event_ids[start : start + HISTORY_CHUNK]),
            )
            for (event_id,) in session.execute(query):
                del unique[(source, event_id)]
    fresh = list(unique.values())
    if fresh:
        # The DB-API's own executemany: SQLAlchemy's per-row parameter processing costs
        # more than SQLite's insert itself on this path.
        columns = STORED_COLUMNS
        values = [
            tuple(_json_text(row[c]) if c in ("data", "extensions") else row[c] for c in columns)
            for row in fresh
        ]
        placeholders = ", ".join("?" * len(columns))
        cursor = session.connection().connection.cursor()
        try:
            cursor.executemany(
                f"INSERT INTO events ({', '.join(columns)}) VALUES ({placeholders})", values
            )
        finally:
            cursor.close()
    return fresh


def meter_new(
    session: Session, *, workspace_id: str, fresh: Iterable[dict[str, Any]], now: Micros
) -> None:
    """Recompute what the new events touch: their conversations, seats and alerts.

    Each conversation and seat is locked before its history is read, so two concurrent
    ingests of one conversation take turns and the second sees the first one's events.
    """
    fresh_rows = list(fresh)
    conversation_keys: set[tuple[str, str]] = set()
    seat_keys: set[tuple[str, str]] = set()
    alerts: list[dict[str, Any]] = []
    for row in fresh_rows:
        kind = row["type"]
        if kind in CONVERSATION_TYPES:
            conversation_keys.add((row["app_id"], row["conversation_id"]))
        elif kind in SEAT_TYPES:
            seat_keys.add((row["app_id"], row["agent_id"]))
        elif not row["developer"]:
            alerts.append(row)
    if conversation_keys:
        last_events: dict[tuple[str, str], Micros] = {}
        for row in fresh_rows:
            if row["type"] in CONVERSATION_TYPES:
                key = (row["app_id"], row["conversation_id"])
                last_events[key] = max(last_events.get(key, row["time"]), row["time"])
        metering.lock_conversations(
            session, workspace_id=workspace_id, keys=conversation_keys, last_events=last_events
        )
        metering.apply_conversations(
            session,
            workspace_id=workspace_id,
            histories=conversation_histories(session, workspace_id, conversation_keys),
            idle_timeouts=idle_timeouts(
                session, workspace_id, {app for app, _ in conversation_keys}
            ),
            now=now,
        )
    if seat_keys:
        metering.lock_seats(session, workspace_id=workspace_id, keys=seat_keys)
        metering.apply_seats(
            session,
            workspace_id=workspace_id,
            histories=seat_histories(session, workspace_id, seat_keys),
        )
    if alerts:
        metering.add_alerts(
            session,
            workspace_id=workspace_id,
            alerts=[(row["app_id"], row["time"]) for row in alerts],
        )


KIND_OF_TYPE = {
    "conversation.started": EventKind.STARTED,
    "conversation.message": EventKind.MESSAGE,
    "conversation.transferred": EventKind.TRANSFERRED,
    "conversation.returned": EventKind.RETURNED,
    "conversation.ended": EventKind.ENDED,
}
SEAT_KIND_OF_TYPE = {
    "agent.seat_assigned": SeatEventKind.ASSIGNED,
    "agent.seat_released": SeatEventKind.RELEASED,
}


def conversation_histories(
    session: Session, workspace_id: str, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[ConversationEvent]]:
    """Every stored event of these conversations, as the rules' plain values."""
    t = table_of(Event).c
    wanted = set(keys)
    histories: dict[tuple[str, str], list[ConversationEvent]] = defaultdict(list)
    columns = (
        t.app_id,
        t.conversation_id,
        t.time,
        t.type,
        t.event_id,
        t.source,
        t.sender,
        t.channel,
        t.developer,
    )
    # One column in the IN list: SQLite uses an index for it, not for a row-value IN.
    for names in chunked(sorted({name for _, name in wanted}), HISTORY_CHUNK):
        query = select(*columns).where(t.workspace_id == workspace_id, t.conversation_id.in_(names))
        for (
            app_id,
            name,
            time,
            kind,
            event_id,
            source,
            sender,
            channel,
            developer,
        ) in session.execute(query):
            key = (app_id, name)
            if key in wanted:
                histories[key].append(
                    ConversationEvent(
                        time=time,
                        kind=KIND_OF_TYPE[kind],
                        event_id=event_id,
                        source=source,
                        sender=sender,
                        channel=channel,
                        developer=developer,
                    )
                )
    return histories


def seat_histories(
    session: Session, workspace_id: str, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[SeatEvent]]:
    """Every stored seat event of these (app, agent) pairs."""
    t = table_of(Event).c
    wanted = set(keys)
    histories: dict[tuple[str, str], list[SeatEvent]] = defaultdict(list)
    # Seats change rarely and one agent name may serve many apps: look up exact pairs.
    for pairs in chunked(sorted(wanted), SEAT_CHUNK):
        query = select(t.app_id, t.agent_id, t.time, t.type, t.event_id, t.source).where(
            rows_in((t.workspace_id, t.app_id, t.agent_id), ((workspace_id, *p) for p in pairs)),
            t.type.in_(SEAT_TYPES),
        )
        for app_id, agent_id, time, kind, event_id, source in session.execute(query):
            key = (app_id, agent_id)
            if key in wanted:
                histories[key].append(
                    SeatEvent(
                        time=time, kind=SEAT_KIND_OF_TYPE[kind], event_id=event_id, source=source
                    )
                )
    return histories


def idle_timeouts(session: Session, workspace_id: str, app_ids: set[str]) -> dict[str, Micros]:
    rows = session.execute(
        select(App.id, App.idle_timeout_minutes).where(
            App.workspace_id == workspace_id, App.id.in_(app_ids)
        )
    )
    return {app_id: minutes * 60 * SECOND for app_id, minutes in rows}


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
