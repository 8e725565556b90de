"""Billable conversation sessions and their requests, kept for the rollups' ``conversations``
and ``requests`` counters.

The same diff as billing sessions: a recomputed conversation's billable sessions are
compared with the stored rows, only the difference is written, and the rollups move by
exactly it (a completed row counts 1 conversation and its requests, at the slot of its
start). So the counters always equal the sum of the completed rows, however the events
arrived.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import NamedTuple

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from botbill.kit.batching import chunked
from botbill.kit.db import among, insert_rows, table_of
from botbill.kit.instants import Micros, slot_of
from botbill.metering.conversations import ConversationSession
from botbill.metering.models import BillableConversationSession
from botbill.metering.rollups import CONVERSATIONS, REQUESTS, Deltas

CHUNK = 500

ConversationKey = tuple[str, str]  # (app_id, conversation_id)

_table = table_of(BillableConversationSession)
_t = _table.c


class Counted(NamedTuple):
    """One billable conversation session as its row holds it."""

    app_id: str
    conversation_id: str
    start: Micros
    requests: int
    completed: bool


def apply(
    session: Session,
    *,
    workspace_id: str,
    computed: Mapping[ConversationKey, Sequence[ConversationSession]],
    deltas: Deltas,
) -> None:
    """Store the difference between these conversations' billable sessions and the rows,
    and gather the rollup moves it makes into ``deltas``."""
    wanted = {
        Counted(app_id, conversation_id, s.start, s.requests, s.completed)
        for (app_id, conversation_id), sessions in computed.items()
        for s in sessions
        if s.billable
    }
    stored = _stored(session, workspace_id, computed.keys())
    gone = stored - wanted
    new = wanted - stored
    for row in gone:
        _move(deltas, row, -1)
    for row in new:
        _move(deltas, row, +1)
    if gone:
        session.execute(
            delete(_table).where(
                _t.workspace_id == workspace_id,
                _t.app_id == bindparam("a"),
                _t.conversation_id == bindparam("c"),
                _t.start == bindparam("s"),
            ),
            [{"a": row.app_id, "c": row.conversation_id, "s": row.start} for row in sorted(gone)],
            execution_options={"synchronize_session": False},
        )
    rows = [{"workspace_id": workspace_id, **row._asdict()} for row in sorted(new)]
    for start in range(0, len(rows), CHUNK):
        insert_rows(session, _table, rows[start : start + CHUNK])


def complete(
    session: Session, *, workspace_id: str, keys: Collection[ConversationKey], deltas: Deltas
) -> None:
    """Mark these conversations' open billable sessions completed (their idle timeout
    passed), gathering their counts into ``deltas``."""
    opened = [row for row in _stored(session, workspace_id, keys) if not row.completed]
    for row in opened:
        _move(deltas, row._replace(completed=True), +1)
    if opened:
        session.execute(
            update(_table)
            .where(
                _t.workspace_id == workspace_id,
                _t.app_id == bindparam("a"),
                _t.conversation_id == bindparam("c"),
                _t.start == bindparam("s"),
            )
            .values(completed=True),
            [{"a": row.app_id, "c": row.conversation_id, "s": row.start} for row in sorted(opened)],
            execution_options={"synchronize_session": False},
        )


def _move(deltas: Deltas, row: Counted, sign: int) -> None:
    if row.completed:
        counts = deltas[(row.app_id, slot_of(row.start))]
        counts[CONVERSATIONS] += sign
        counts[REQUESTS] += sign * row.requests


def _stored(session: Session, workspace_id: str, keys: Collection[ConversationKey]) -> set[Counted]:
    wanted = set(keys)
    stored: set[Counted] = set()
    # One column in the IN list, as for billing sessions; the app is checked here.
    for names in chunked(sorted({name for _, name in wanted}), CHUNK):
        query = select(_t.app_id, _t.conversation_id, _t.start, _t.requests, _t.completed).where(
            _t.workspace_id == workspace_id, among(session, _t.conversation_id, names)
        )
        for row in session.execute(query):
            if (row[0], row[1]) in wanted:
                stored.add(Counted(*row))
    return stored
