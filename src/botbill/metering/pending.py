"""Metering off the request path: what ingest leaves pending, and the drain that meters it.

Ingest stores the events and, in the same transaction, records each conversation and
seat the batch touched in ``metering_pending``, then returns. The drain takes pending
rows in large chunks, recomputes each conversation and seat once per chunk from its full
history with the diff of :mod:`botbill.metering.service` (which also queues rating rows
and seat-days), and deletes the rows it took, all in one transaction.

Every read that must reflect ingested events first drains its workspace (:func:`settle`),
so "when the ingest call returns, queries already reflect it" still holds. On PostgreSQL
the background drain takes rows with ``SKIP LOCKED`` (several processes share the work);
a read never waits on a drainer's row lock: it meters what is free and looks again until
the rows pending when it began are gone. Pending rows are only inserted and deleted, never
updated: an ingest never waits for a drain, and a row a drain did not see stays for the
next one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from time import monotonic, sleep
from typing import Any, NamedTuple

from sqlalchemy import Engine, delete, func, select, true
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


class Touched(NamedTuple):
    """What a batch's new events did to one conversation or seat."""

    last_event: Micros
    events: int


def record(
    session: Session,
    *,
    workspace_id: str,
    conversations: Mapping[ConversationKey, Touched],
    seats: Mapping[SeatKey, Touched],
    now: Micros,
) -> None:
    """Leave these conversations and seats (with their latest new event and how many new
    events touched them) to the drain."""
    rows = [
        {
            "workspace_id": workspace_id,
            "kind": kind,
            "app_id": app,
            "name": name,
            "last_event": touched.last_event,
            "recorded_at": now,
            "events": touched.events,
        }
        for kind, keys in ((CONVERSATION, conversations), (SEAT, seats))
        for (app, name), touched in sorted(keys.items())
    ]
    insert_rows(session, _pending, rows)


def has_pending(session: Session, *, workspace_id: str) -> bool:
    query = select(_pending.c.id).where(_pending.c.workspace_id == workspace_id).limit(1)
    return session.execute(query).first() is not None


def backlog(session: Session, *, workspace_id: str, cap: int) -> int:
    """How many ingested events of the workspace wait for metering, counted up to ``cap``
    rows (every row stands for at least one event, so a full count is at least ``cap``)."""
    rows = (
        select(_pending.c.events)
        .where(_pending.c.workspace_id == workspace_id)
        .limit(cap)
        .subquery()
    )
    return int(session.scalar(select(func.coalesce(func.sum(rows.c.events), 0))) or 0)


def oldest_pending(session: Session, *, workspace_id: str) -> Micros | None:
    """When the oldest events of the workspace still waiting for metering were stored."""
    query = (
        select(_pending.c.recorded_at)
        .where(_pending.c.workspace_id == workspace_id)
        .order_by(_pending.c.id)
        .limit(1)
    )
    return session.scalar(query)


def _newest_id(session: Session, *, workspace_id: str) -> int | None:
    query = select(func.max(_pending.c.id)).where(_pending.c.workspace_id == workspace_id)
    newest: int | None = session.scalar(query)
    return newest


def drain(
    session: Session,
    *,
    now: Micros,
    workspace_id: str | None = None,
    limit: int = CHUNK,
    upto: int | None = None,
) -> int:
    """Meter up to ``limit`` pending rows, oldest first; returns how many were taken.

    Rows another drainer holds are skipped (PostgreSQL ``SKIP LOCKED``): nobody waits
    for a drainer's lock. A read that settles its workspace waits for those rows to be
    gone instead (:func:`settle`).
    """
    p = _pending.c
    query = (
        select(p.id, p.workspace_id, p.kind, p.app_id, p.name, p.last_event)
        .order_by(p.id)
        .limit(limit)
    )
    if workspace_id is not None:
        query = query.where(p.workspace_id == workspace_id)
    if upto is not None:
        query = query.where(p.id <= upto)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
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
    """Drain what was pending when it began (or one workspace's part), ``chunk`` rows per
    transaction; returns rows metered. What ingest adds meanwhile is left to the next
    call, so a pass under constant ingest ends and the rest of the engine's work runs."""
    with unit_of_work(engine, write=False) as session:
        newest = session.scalar(
            select(func.max(_pending.c.id)).where(
                true() if workspace_id is None else _pending.c.workspace_id == workspace_id
            )
        )
    if newest is None:
        return 0
    total = 0
    while True:
        with unit_of_work(engine, write=True) as session:
            taken = drain(
                session, now=clock.now(), workspace_id=workspace_id, limit=chunk, upto=newest
            )
        total += taken
        if taken == 0:
            return total


SETTLE_POLL_SECONDS = 0.005
SETTLE_TIMEOUT_SECONDS = 10.0


def settle(engine: Engine, clock: Clock, *, workspace_id: str) -> None:
    """Before a read that must reflect every event ingested before it: meter what is
    pending for this workspace. A read transaction checks first, so the usual case stays
    a read. Rows another drainer holds are not waited for on their lock: the read meters
    what is free, then looks again until the rows pending when it began are gone (that
    drainer has committed). The backlog is bounded by ingest's backpressure, so is the
    wait; after ``SETTLE_TIMEOUT_SECONDS`` the read goes on with what is metered."""
    with unit_of_work(engine, write=False) as session:
        mark = _newest_id(session, workspace_id=workspace_id)
    if mark is None:
        return
    deadline = monotonic() + SETTLE_TIMEOUT_SECONDS
    while True:
        run_metering(engine, clock, workspace_id=workspace_id)
        with unit_of_work(engine, write=False) as session:
            left = session.scalar(
                select(_pending.c.id)
                .where(_pending.c.workspace_id == workspace_id, _pending.c.id <= mark)
                .limit(1)
            )
        if left is None or monotonic() > deadline:
            return
        sleep(SETTLE_POLL_SECONDS)


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
