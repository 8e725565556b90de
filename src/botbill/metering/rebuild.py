"""Recomputing a workspace's metering from its raw events (``botbill rollups rebuild``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.events.models import Event
from botbill.events.schemas import CONVERSATION_TYPES, SEAT_TYPES
from botbill.kit.db import table_of
from botbill.kit.instants import Micros
from botbill.metering import agent_seats
from botbill.metering import service as metering
from botbill.metering.pending import conversation_histories, idle_timeouts, seat_histories

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
        agent_seats.lock_seats(session, workspace_id=workspace_id, keys=seat_keys)
        seat_events = seat_histories(session, workspace_id, seat_keys)
        seen += sum(len(events) for events in seat_events.values())
        agent_seats.apply_seats(session, workspace_id=workspace_id, histories=seat_events)
    return seen
