"""Keeping the engine's state current: billing sessions, rollups and seats.

Every change goes through a diff: a conversation is recomputed from all its events, the
result is compared with what is stored, and only the difference is written, so a late
or repeated event moves the rollups by exactly what it changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from botbill.kit.batching import chunked, rows_in
from botbill.kit.db import among, insert_rows, table_of, upsert_insert
from botbill.kit.instants import Micros, slot_of
from botbill.metering import seat_presence
from botbill.metering.conversations import ConversationEvent, ConversationSession, sessionize
from botbill.metering.models import (
    AgentSeat,
    BillingSession,
    Conversation,
    PendingMetering,
    SeatInterval,
    SeatOrdinalCounter,
    SeatPresence,
    UsageRollup,
    WorkspaceUsageRollup,
)
from botbill.metering.seats import SeatEvent, seat_intervals
from botbill.metering.seats import SeatInterval as Interval
from botbill.rating import queue as rating_queue
from botbill.rating import seat_days
from botbill.rating.queue import Rated

CHUNK = 500
SEAT_CHUNK = 50
COUNT_COLUMNS = ("usage_sessions", "alert_sessions", "voice_sessions")
COLUMN_OF_TYPE = {"usage": 0, "alert": 1, "voice": 2}

ConversationKey = tuple[str, str]  # (app_id, conversation_id)
SeatKey = tuple[str, str]  # (app_id, agent_id)
# What identifies a stored billing session's content, for diffing.
Signature = tuple[str, str, str, str | None, int | None, int | None, int, int, int, bool]
Deltas = dict[tuple[str, int], list[int]]  # (app_id, slot) -> [usage, alert, voice]

_bs = table_of(BillingSession).c


def new_deltas() -> Deltas:
    """Rollup moves to gather over a unit of work and apply once (:func:`bump_rollups`)."""
    return defaultdict(lambda: [0, 0, 0])


def lock_conversations(
    session: Session,
    *,
    workspace_id: str,
    keys: Iterable[ConversationKey],
    last_events: Mapping[ConversationKey, Micros],
) -> None:
    """Create or lock each conversation's row, in key order (no deadlocks between writers).

    On PostgreSQL the upsert holds the row until commit, so a concurrent ingest of the same
    conversation waits here and then reads the events this one stored.
    """
    table = table_of(Conversation)
    rows = [
        {
            "workspace_id": workspace_id,
            "app_id": app,
            "conversation_id": conv,
            "last_event": last_events[(app, conv)],
        }
        for app, conv in sorted(keys)
    ]
    for start in range(0, len(rows), CHUNK):
        statement = upsert_insert(session)(table)
        statement = statement.on_conflict_do_update(
            index_elements=["workspace_id", "app_id", "conversation_id"],
            set_={"last_event": table.c.last_event},
        )
        session.execute(statement, rows[start : start + CHUNK])


def lock_seats(session: Session, *, workspace_id: str, keys: Iterable[SeatKey]) -> None:
    table = table_of(AgentSeat)
    rows = [
        {"workspace_id": workspace_id, "app_id": app, "agent_id": agent}
        for app, agent in sorted(keys)
    ]
    for start in range(0, len(rows), CHUNK):
        statement = upsert_insert(session)(table).on_conflict_do_update(
            index_elements=["workspace_id", "app_id", "agent_id"],
            set_={"agent_id": table.c.agent_id},
        )
        session.execute(statement, rows[start : start + CHUNK])


def apply_conversations(
    session: Session,
    *,
    workspace_id: str,
    histories: Mapping[ConversationKey, Sequence[ConversationEvent]],
    idle_timeouts: Mapping[str, Micros],
    now: Micros,
    deltas: Deltas | None = None,
) -> None:
    """Recompute these conversations from their full histories and store the difference.

    The rollups move by what changed: at once, or into ``deltas`` when the caller gathers
    the moves of a whole unit of work (one sorted upsert: no deadlock between writers).
    """
    computed: dict[ConversationKey, list[ConversationSession]] = {
        key: sessionize(events, idle_timeout=idle_timeouts[key[0]], now=now)
        for key, events in histories.items()
    }
    wanted: set[Signature] = set()
    for (app_id, conversation_id), sessions in computed.items():
        for conversation_session in sessions:
            wanted.update(_signatures(app_id, conversation_id, conversation_session))
    stored = _stored_signatures(session, workspace_id, list(computed))
    moves = new_deltas() if deltas is None else deltas
    gone = [row_id for signature, row_id in stored.items() if signature not in wanted]
    for signature, _row_id in stored.items():
        if signature not in wanted and signature[9]:
            moves[(signature[0], slot_of(signature[7]))][COLUMN_OF_TYPE[signature[2]]] -= 1
    new = [signature for signature in wanted if signature not in stored]
    for signature in new:
        if signature[9]:
            moves[(signature[0], slot_of(signature[7]))][COLUMN_OF_TYPE[signature[2]]] += 1
    for start in range(0, len(gone), CHUNK):
        session.execute(
            delete(BillingSession).where(among(session, _bs.id, gone[start : start + CHUNK]))
        )
    to_rate = [
        Rated(signature[0], row_id, signature[2], signature[7], -1)
        for signature, row_id in stored.items()
        if signature[9] and signature not in wanted
    ]
    if new:
        to_rate += _insert_sessions(session, [_row(workspace_id, signature) for signature in new])
    rating_queue.enqueue(session, workspace_id=workspace_id, entries=to_rate)
    _update_conversations(session, workspace_id, histories, computed, idle_timeouts)
    if deltas is None:
        bump_rollups(session, workspace_id, moves)


def _insert_sessions(session: Session, rows: list[dict[str, Any]]) -> list[Rated]:
    """Insert billing sessions; returns the completed ones, to be charged."""
    inserted = insert_rows(
        session,
        table_of(BillingSession),
        rows,
        returning=(_bs.id, _bs.app_id, _bs.type, _bs.start, _bs.completed),
    )
    return [
        Rated(app_id, row_id, kind, start, 1)
        for row_id, app_id, kind, start, completed in inserted
        if completed
    ]


def _signatures(
    app_id: str, conversation_id: str, conversation_session: ConversationSession
) -> list[Signature]:
    s = conversation_session
    signatures: list[Signature] = []
    for kind, blocks in (("usage", s.usage_blocks), ("voice", s.voice_blocks)):
        for ordinal, block in enumerate(blocks):
            signatures.append(
                (
                    app_id,
                    conversation_id,
                    kind,
                    s.channel,
                    s.start,
                    s.end,
                    ordinal,
                    block.start,
                    block.end,
                    s.completed,
                )
            )
    return signatures


def _stored_signatures(
    session: Session, workspace_id: str, keys: list[ConversationKey]
) -> dict[Signature, int]:
    wanted = set(keys)
    stored: dict[Signature, int] = {}
    # One column in the IN list (SQLite uses an index for it, not for a row-value IN);
    # the app is checked here, as two apps may use one conversation id.
    for names in chunked(sorted({name for _, name in wanted}), CHUNK):
        query = select(
            _bs.app_id,
            _bs.conversation_id,
            _bs.type,
            _bs.channel,
            _bs.conversation_session_start,
            _bs.conversation_session_end,
            _bs.ordinal,
            _bs.start,
            _bs.end,
            _bs.completed,
            _bs.id,
        ).where(_bs.workspace_id == workspace_id, among(session, _bs.conversation_id, names))
        for row in session.execute(query):
            if (row[0], row[1]) in wanted:
                stored[tuple(row[:10])] = row[10]
    return stored


def _row(workspace_id: str, signature: Signature) -> dict[str, Any]:
    app_id, conversation_id, kind, channel, cs_start, cs_end, ordinal, start, end, completed = (
        signature
    )
    return {
        "workspace_id": workspace_id,
        "app_id": app_id,
        "type": kind,
        "channel": channel,
        "conversation_id": conversation_id,
        "conversation_session_start": cs_start,
        "conversation_session_end": cs_end,
        "ordinal": ordinal,
        "start": start,
        "end": end,
        "completed": completed,
    }


def _update_conversations(
    session: Session,
    workspace_id: str,
    histories: Mapping[ConversationKey, Sequence[ConversationEvent]],
    computed: Mapping[ConversationKey, list[ConversationSession]],
    idle_timeouts: Mapping[str, Micros],
) -> None:
    table = table_of(Conversation)
    params = []
    for key, events in histories.items():
        last_event = max(event.time for event in events)
        sessions = computed[key]
        open_billable = bool(sessions) and not sessions[-1].completed and sessions[-1].billable
        due_at = last_event + idle_timeouts[key[0]] + 1 if open_billable else None
        params.append(
            {
                "w": workspace_id,
                "a": key[0],
                "c": key[1],
                "last_event": last_event,
                "due_at": due_at,
            }
        )
    if params:
        session.execute(
            update(table)
            .where(
                table.c.workspace_id == bindparam("w"),
                table.c.app_id == bindparam("a"),
                table.c.conversation_id == bindparam("c"),
            )
            .values(last_event=bindparam("last_event"), due_at=bindparam("due_at")),
            params,
            execution_options={"synchronize_session": False},
        )


def add_alerts(
    session: Session,
    *,
    workspace_id: str,
    alerts: Sequence[tuple[str, Micros]],
    deltas: Deltas | None = None,
) -> None:
    """One completed alert session per delivered (non-developer) alert, at its time
    (rollups moved at once, or gathered into ``deltas``)."""
    rows = [
        {
            "workspace_id": workspace_id,
            "app_id": app_id,
            "type": "alert",
            "ordinal": 0,
            "start": time,
            "end": time,
            "completed": True,
        }
        for app_id, time in alerts
    ]
    rating_queue.enqueue(
        session, workspace_id=workspace_id, entries=_insert_sessions(session, rows)
    )
    moves = new_deltas() if deltas is None else deltas
    for app_id, time in alerts:
        moves[(app_id, slot_of(time))][1] += 1
    if deltas is None:
        bump_rollups(session, workspace_id, moves)


def apply_seats(
    session: Session, *, workspace_id: str, histories: Mapping[SeatKey, Sequence[SeatEvent]]
) -> None:
    """Bring the seat intervals of these (app, agent) pairs to their recomputed ones,
    writing only the intervals that changed, and move their presence bits to match."""
    table = table_of(SeatInterval)
    wanted = set(histories)
    stored: dict[SeatKey, dict[Interval, int]] = defaultdict(dict)
    for pairs in chunked(sorted(wanted), SEAT_CHUNK):
        query = select(
            table.c.id, table.c.app_id, table.c.agent_id, table.c.start, table.c.end
        ).where(
            rows_in(
                (table.c.workspace_id, table.c.app_id, table.c.agent_id),
                ((workspace_id, *pair) for pair in pairs),
            )
        )
        for row_id, app_id, agent_id, start, end in session.execute(query):
            stored[(app_id, agent_id)][Interval(start=start, end=end)] = row_id
    new = {key: seat_intervals(events) for key, events in histories.items()}
    # Sets, not the lists: a seat with months of shifts has hundreds of intervals.
    new_sets = {key: set(intervals) for key, intervals in new.items()}
    gone = [
        row_id
        for key in wanted
        for interval, row_id in stored[key].items()
        if interval not in new_sets[key]
    ]
    for ids in chunked(gone, CHUNK):
        session.execute(delete(SeatInterval).where(among(session, table.c.id, ids)))
    rows = [
        {
            "workspace_id": workspace_id,
            "app_id": app_id,
            "agent_id": agent_id,
            "start": i.start,
            "end": i.end,
        }
        for (app_id, agent_id), intervals in new.items()
        for i in intervals
        if i not in stored[(app_id, agent_id)]
    ]
    insert_rows(session, table, rows)
    changed: dict[str, list[Interval]] = defaultdict(list)
    for (app_id, agent_id), intervals in new_sets.items():
        held = stored[(app_id, agent_id)].keys()
        changed[app_id] += held - intervals  # the days they touch are queued, in any order
        changed[app_id] += intervals - held
    seat_days.enqueue_changes(session, workspace_id=workspace_id, changes=changed)
    ordinal_of = seat_presence.ordinals(session, workspace_id=workspace_id, keys=wanted)
    seat_presence.apply_changes(
        session,
        workspace_id=workspace_id,
        changes={
            ordinal_of[key]: seat_presence.slot_changes(stored[key].keys(), new_sets[key])
            for key in wanted
        },
    )


def complete_due(
    session: Session, *, now: Micros, workspace_id: str | None = None, limit: int = 2_000
) -> int:
    """Complete the sessions whose idle timeout has passed; returns how many conversations.

    On PostgreSQL the due rows are taken with SKIP LOCKED, so several processes share the
    work and a conversation being ingested right now is left to that ingest.
    """
    table = table_of(Conversation)
    query = select(table.c.app_id, table.c.conversation_id, table.c.workspace_id).where(
        table.c.due_at <= now
    )
    if workspace_id is not None:
        query = query.where(table.c.workspace_id == workspace_id)
    query = query.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    due = list(session.execute(query))
    by_workspace: dict[str, list[ConversationKey]] = defaultdict(list)
    for app_id, conversation_id, ws in due:
        by_workspace[ws].append((app_id, conversation_id))
    for ws, keys in by_workspace.items():
        deltas: Deltas = defaultdict(lambda: [0, 0, 0])
        wanted = set(keys)
        opened: list[int] = []
        to_rate: list[Rated] = []
        for names in chunked(sorted({name for _, name in wanted}), CHUNK):
            query = select(_bs.id, _bs.app_id, _bs.conversation_id, _bs.type, _bs.start).where(
                _bs.workspace_id == ws,
                among(session, _bs.conversation_id, names),
                _bs.completed.is_(False),
            )
            for row in session.execute(query):
                if (row.app_id, row.conversation_id) in wanted:
                    opened.append(row.id)
                    to_rate.append(Rated(row.app_id, row.id, row.type, row.start, 1))
                    deltas[(row.app_id, slot_of(row.start))][COLUMN_OF_TYPE[row.type]] += 1
        for ids in chunked(opened, CHUNK):
            session.execute(
                update(BillingSession).where(among(session, _bs.id, ids)).values(completed=True)
            )
        session.execute(
            update(table)
            .where(
                table.c.workspace_id == ws,
                table.c.app_id == bindparam("a"),
                table.c.conversation_id == bindparam("c"),
            )
            .values(due_at=None),
            [{"a": app_id, "c": name} for app_id, name in sorted(wanted)],
            execution_options={"synchronize_session": False},
        )
        bump_rollups(session, ws, deltas)
        rating_queue.enqueue(session, workspace_id=ws, entries=to_rate)
    return len(due)


def has_due(session: Session, *, workspace_id: str, now: Micros) -> bool:
    table = table_of(Conversation)
    query = (
        select(table.c.app_id)
        .where(table.c.workspace_id == workspace_id, table.c.due_at <= now)
        .limit(1)
    )
    return session.execute(query).first() is not None


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
    per_slot: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
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


def reset(session: Session, *, workspace_id: str) -> None:
    """Forget everything derived for a workspace (before a rebuild from raw events),
    and what was pending for it: the rebuild reads every event stored.

    Every charged billing session is queued for its refund: the rebuilt sessions are
    charged afresh, so the balance ends as if they had been rated once.
    """
    rating_queue.refund_all(session, workspace_id=workspace_id)
    for model in (
        PendingMetering,
        BillingSession,
        UsageRollup,
        WorkspaceUsageRollup,
        SeatInterval,
        SeatPresence,
        SeatOrdinalCounter,
        AgentSeat,
        Conversation,
    ):
        session.execute(delete(model).where(table_of(model).c.workspace_id == workspace_id))
