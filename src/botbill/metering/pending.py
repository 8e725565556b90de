"""Metering off the request path: what ingest leaves pending, and the drain that meters it.

Ingest stores the events and, in the same transaction, records each conversation and
seat the batch touched in ``metering_pending``, then returns. The drain takes pending
rows in large chunks, recomputes each conversation and seat once per chunk from its full
history with the diff of :mod:`botbill.metering.service` (which also queues rating rows
and seat-days), and deletes the rows it took, all in one transaction.

Every read that must reflect ingested events first drains its workspace (:func:`settle`),
so "when the ingest call returns, queries already reflect it" still holds. On PostgreSQL
the background drain takes rows with ``SKIP LOCKED`` (several processes share the work);
a read's drain waits for rows another drainer holds, whose events are metered when that
drainer commits. Pending rows are only inserted and deleted, never updated: an ingest never
waits for a drain, and a row a drain did not see stays for the next one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from botbill.events.models import Event
from botbill.kit.batching import chunked, rows_in
from botbill.kit.clock import Clock
from botbill.kit.db import among, fetch_raw, insert_rows, table_of, unit_of_work
from botbill.kit.instants import SECOND, Micros
from botbill.metering import agent_seats, rollups
from botbill.metering import service as metering
from botbill.metering.agent_seats import SeatKey
from botbill.metering.conversations import ConversationEvent, EventKind
from botbill.metering.models import PendingMetering
from botbill.metering.seats import SeatEvent, SeatEventKind
from botbill.metering.service import ConversationKey
from botbill.workspaces.models import App

CHUNK = 10_000
"""Pending rows per drain transaction: large, so that a conversation several requests
touched is recomputed once, and its history and stored sessions read in few queries."""
HISTORY_CHUNK = 500
SEAT_CHUNK = 50
CONVERSATION, SEAT = "conversation", "seat"

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

_pending = table_of(PendingMetering)


def record(
    session: Session,
    *,
    workspace_id: str,
    conversations: Mapping[ConversationKey, Micros],
    seats: Mapping[SeatKey, Micros],
) -> None:
    """Leave these conversations and seats (with their latest new event) to the drain."""
    rows = [
        {"workspace_id": workspace_id, "kind": kind, "app_id": app, "name": name, "last_event": t}
        for kind, keys in ((CONVERSATION, conversations), (SEAT, seats))
        for (app, name), t in sorted(keys.items())
    ]
    insert_rows(session, _pending, rows)


def has_pending(session: Session, *, workspace_id: str) -> bool:
    query = select(_pending.c.id).where(_pending.c.workspace_id == workspace_id).limit(1)
    return session.execute(query).first() is not None


def drain(
    session: Session, *, now: Micros, workspace_id: str | None = None, limit: int = CHUNK
) -> int:
    """Meter up to ``limit`` pending rows, oldest first; returns how many were taken.

    ``workspace_id`` given (a read settling its workspace): rows another drainer holds
    are waited for. ``None`` (the background drain): they are skipped.
    """
    p = _pending.c
    query = (
        select(p.id, p.workspace_id, p.kind, p.app_id, p.name, p.last_event)
        .order_by(p.id)
        .limit(limit)
    )
    if workspace_id is not None:
        query = query.where(p.workspace_id == workspace_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=workspace_id is None)
    rows = session.execute(query).all()
    if not rows:
        return 0
    conversations: dict[str, dict[ConversationKey, Micros]] = defaultdict(dict)
    seats: dict[str, set[SeatKey]] = defaultdict(set)
    for _id, ws, kind, app_id, name, last_event in rows:
        if kind == CONVERSATION:
            latest = conversations[ws]
            latest[(app_id, name)] = max(latest.get((app_id, name), last_event), last_event)
        else:
            seats[ws].add((app_id, name))
    for ws in sorted(conversations.keys() | seats.keys()):
        meter(
            session,
            workspace_id=ws,
            conversations=conversations.get(ws, {}),
            seats=seats.get(ws, set()),
            now=now,
        )
    for ids in chunked([row[0] for row in rows], metering.CHUNK):
        session.execute(delete(_pending).where(among(session, p.id, ids)))
    return len(rows)


def run_metering(
    engine: Engine, clock: Clock, *, workspace_id: str | None = None, chunk: int = CHUNK
) -> int:
    """Drain everything pending (or one workspace's part), ``chunk`` rows per transaction;
    returns rows metered."""
    total = 0
    while True:
        with unit_of_work(engine, write=True) as session:
            taken = drain(session, now=clock.now(), workspace_id=workspace_id, limit=chunk)
        total += taken
        if taken == 0:
            return total


def settle(engine: Engine, clock: Clock, *, workspace_id: str) -> None:
    """Before a read that must reflect every ingested event: meter what is pending for
    this workspace. A read transaction checks first, so the usual case stays a read."""
    with unit_of_work(engine, write=False) as session:
        pending = has_pending(session, workspace_id=workspace_id)
    if pending:
        run_metering(engine, clock, workspace_id=workspace_id)


def meter(
    session: Session,
    *,
    workspace_id: str,
    conversations: Mapping[ConversationKey, Micros],
    seats: Iterable[SeatKey],
    now: Micros,
    alerts: list[tuple[str, Micros]] | None = None,
) -> None:
    """Recompute these conversations and seats from their full histories (each locked
    first, in key order), count these alerts, and move the rollups once for all of it."""
    deltas = rollups.new_deltas()
    if conversations:
        metering.lock_conversations(
            session, workspace_id=workspace_id, keys=conversations, last_events=conversations
        )
        metering.apply_conversations(
            session,
            workspace_id=workspace_id,
            histories=conversation_histories(session, workspace_id, conversations),
            idle_timeouts=idle_timeouts(session, workspace_id, {app for app, _ in conversations}),
            now=now,
            deltas=deltas,
        )
    seat_keys = set(seats)
    if seat_keys:
        agent_seats.lock_seats(session, workspace_id=workspace_id, keys=seat_keys)
        agent_seats.apply_seats(
            session,
            workspace_id=workspace_id,
            histories=seat_histories(session, workspace_id, seat_keys),
        )
    if alerts:
        metering.add_alerts(session, workspace_id=workspace_id, alerts=alerts, deltas=deltas)
    rollups.bump_rollups(session, workspace_id, deltas)


def conversation_histories(
    session: Session, workspace_id: str, keys: Iterable[ConversationKey]
) -> dict[ConversationKey, list[ConversationEvent]]:
    """Every stored event of these conversations, as the rules' plain values."""
    t = table_of(Event).c
    wanted = set(keys)
    histories: dict[ConversationKey, list[ConversationEvent]] = defaultdict(list)
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
        query = select(*columns).where(
            t.workspace_id == workspace_id, among(session, t.conversation_id, names)
        )
        # Straight from the DB-API cursor: plain strings and integers, thousands of rows.
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
        ) in fetch_raw(session, query):
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
                        developer=bool(developer),
                    )
                )
    return histories


def seat_histories(
    session: Session, workspace_id: str, keys: Iterable[SeatKey]
) -> dict[SeatKey, list[SeatEvent]]:
    """Every stored seat event of these (app, agent) pairs."""
    t = table_of(Event).c
    wanted = set(keys)
    histories: dict[SeatKey, list[SeatEvent]] = defaultdict(list)
    # Seats change rarely and one agent name may serve many apps: look up exact pairs.
    for pairs in chunked(sorted(wanted), SEAT_CHUNK):
        query = select(t.app_id, t.agent_id, t.time, t.type, t.event_id, t.source).where(
            rows_in((t.workspace_id, t.app_id, t.agent_id), ((workspace_id, *p) for p in pairs)),
            t.type.in_(SEAT_KIND_OF_TYPE),
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
    rows: Any = session.execute(
        select(App.id, App.idle_timeout_minutes).where(
            App.workspace_id == workspace_id, App.id.in_(app_ids)
        )
    )
    return {app_id: minutes * 60 * SECOND for app_id, minutes in rows}
