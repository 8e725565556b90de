"""Keeping the engine's state current: billing sessions of conversations and alerts.

Every change goes through a diff: a conversation is recomputed from all its events, the
result is compared with what is stored, and only the difference is written, so a late
or repeated event moves the rollups by exactly what it changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from botbill.kit.batching import chunked
from botbill.kit.db import among, insert_rows, table_of, upsert_insert
from botbill.kit.instants import Micros, slot_of
from botbill.metering import billable_conversations, outbox
from botbill.metering.conversations import ConversationEvent, ConversationSession, sessionize
from botbill.metering.models import (
    AgentSeat,
    BillableConversationSession,
    BillingSession,
    Conversation,
    PendingMetering,
    SeatInterval,
    SeatOrdinalCounter,
    SeatPresence,
    UsageRollup,
    WorkspaceUsageRollup,
)
from botbill.metering.outbox import Rated
from botbill.metering.rollups import COLUMN_OF_TYPE, Deltas, bump_rollups, new_deltas

CHUNK = 500

ConversationKey = tuple[str, str]  # (app_id, conversation_id)


class Signature(NamedTuple):
    """What identifies a stored billing session's content, for diffing."""

    app_id: str
    conversation_id: str
    type: str
    channel: str
    conversation_session_start: int | None
    conversation_session_end: int | None
    ordinal: int
    start: int
    end: int
    completed: bool


_bs = table_of(BillingSession).c


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
        if signature not in wanted and signature.completed:
            moves[(signature.app_id, slot_of(signature.start))][COLUMN_OF_TYPE[signature.type]] -= 1
    new = [signature for signature in wanted if signature not in stored]
    for signature in new:
        if signature.completed:
            moves[(signature.app_id, slot_of(signature.start))][COLUMN_OF_TYPE[signature.type]] += 1
    for start in range(0, len(gone), CHUNK):
        session.execute(
            delete(BillingSession).where(among(session, _bs.id, gone[start : start + CHUNK]))
        )
    to_rate = [
        Rated(signature.app_id, row_id, signature.type, signature.start, -1)
        for signature, row_id in stored.items()
        if signature.completed and signature not in wanted
    ]
    if new:
        to_rate += _insert_sessions(session, [_row(workspace_id, signature) for signature in new])
    outbox.enqueue(session, workspace_id=workspace_id, entries=to_rate)
    billable_conversations.apply(
        session, workspace_id=workspace_id, computed=computed, deltas=moves
    )
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
                Signature(
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
                stored[Signature(*row[:10])] = row[10]
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
    outbox.enqueue(session, workspace_id=workspace_id, entries=_insert_sessions(session, rows))
    moves = new_deltas() if deltas is None else deltas
    for app_id, time in alerts:
        moves[(app_id, slot_of(time))][1] += 1
    if deltas is None:
        bump_rollups(session, workspace_id, moves)


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
        deltas = new_deltas()
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
        billable_conversations.complete(session, workspace_id=ws, keys=wanted, deltas=deltas)
        bump_rollups(session, ws, deltas)
        outbox.enqueue(session, workspace_id=ws, entries=to_rate)
    return len(due)


def has_due(session: Session, *, workspace_id: str, now: Micros) -> bool:
    table = table_of(Conversation)
    query = (
        select(table.c.app_id)
        .where(table.c.workspace_id == workspace_id, table.c.due_at <= now)
        .limit(1)
    )
    return session.execute(query).first() is not None


def oldest_due(session: Session, *, workspace_id: str, now: Micros) -> Micros | None:
    """When the earliest of the workspace's sessions that are due but not completed yet
    became due (the completion job closes them within its interval)."""
    table = table_of(Conversation)
    due: Micros | None = session.scalar(
        select(func.min(table.c.due_at)).where(
            table.c.workspace_id == workspace_id, table.c.due_at <= now
        )
    )
    return due


def reset(session: Session, *, workspace_id: str) -> None:
    """Forget everything derived for a workspace (before a rebuild from raw events),
    and what was pending for it: the rebuild reads every event stored.

    The caller queues the refund of every charge first (``rating.queue.refund_all``):
    the rebuilt sessions are charged afresh.
    """
    for model in (
        PendingMetering,
        BillingSession,
        BillableConversationSession,
        UsageRollup,
        WorkspaceUsageRollup,
        SeatInterval,
        SeatPresence,
        SeatOrdinalCounter,
        AgentSeat,
        Conversation,
    ):
        session.execute(delete(model).where(table_of(model).c.workspace_id == workspace_id))
