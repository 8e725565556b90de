"""Keyword-only factories for the metering tests: a workspace with the apps of
``tests.histories``, events stored and metered as ingest and reads do, and what the engine
stored, compared with the rules applied to the whole history."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Engine, select

from botbill.apps.schemas import AppCreate
from botbill.apps.service import create_app
from botbill.events.parsing import parse_events
from botbill.events.service import TimeLimits
from botbill.ingest.service import ingest
from botbill.kit.clock import FrozenClock
from botbill.kit.db import table_of, unit_of_work
from botbill.kit.instants import MINUTE, Micros, slot_of, to_micros
from botbill.metering.conversations import ConversationEvent, sessionize
from botbill.metering.models import BillingSession, SeatInterval, UsageRollup, WorkspaceUsageRollup
from botbill.metering.pending import run_metering
from tests.factories import T0, make_workspace
from tests.histories import (
    APP_TIMEOUTS,
    KINDS,
    ExpectedSession,
    expected_seats,
    expected_sessions,
)

NOW = to_micros(T0)
LIMITS = TimeLimits(max_age=None)


def setup_workspace(engine: Engine) -> str:
    workspace_id, _ = make_workspace(engine)
    with unit_of_work(engine, write=True) as session:
        for app, timeout in APP_TIMEOUTS.items():
            create_app(
                session,
                workspace_id,
                AppCreate(id=app, name=app, idle_timeout_minutes=timeout),
                now=NOW,
            )
    return workspace_id


def store(engine: Engine, workspace_id: str, events: list[dict[str, Any]], *, now: Micros) -> None:
    """Ingest a batch as ``POST /v1/events`` does: stored, its metering left pending."""
    parsed = parse_events(
        orjson.dumps(events),
        content_type="application/cloudevents-batch+json",
        headers={},
        max_events=len(events),
    )
    with unit_of_work(engine, write=True) as session:
        ingest(session, workspace_id=workspace_id, events=parsed, now=now, limits=LIMITS)


def send(engine: Engine, workspace_id: str, events: list[dict[str, Any]], *, now: Micros) -> None:
    """Ingest a batch, then meter it as a read of the workspace does first."""
    store(engine, workspace_id, events, now=now)
    run_metering(engine, FrozenClock(now), workspace_id=workspace_id)


def stored_sessions(engine: Engine, workspace_id: str) -> Counter[ExpectedSession]:
    b = table_of(BillingSession).c
    with unit_of_work(engine, write=False) as session:
        rows = session.execute(
            select(
                b.type,
                b.app_id,
                b.channel,
                b.conversation_id,
                b.conversation_session_start,
                b.conversation_session_end,
                b.start,
                b.end,
            ).where(b.workspace_id == workspace_id, b.completed.is_(True))
        )
        return Counter(ExpectedSession(*row) for row in rows)


Counts = tuple[int, ...]
"""Usage, alert and voice sessions, conversations and requests of one rollup row."""


def rollups(engine: Engine, workspace_id: str) -> tuple[dict[Any, Counts], dict[Any, Counts]]:
    per_app = table_of(UsageRollup).c
    per_ws = table_of(WorkspaceUsageRollup).c
    columns = ("usage_sessions", "alert_sessions", "voice_sessions", "conversations", "requests")
    with unit_of_work(engine, write=False) as session:
        apps: dict[Any, Counts] = {
            (app, slot): tuple(counts)
            for app, slot, *counts in session.execute(
                select(per_app.app_id, per_app.slot, *(per_app[c] for c in columns)).where(
                    per_app.workspace_id == workspace_id
                )
            )
            if any(counts)
        }
        whole: dict[Any, Counts] = {
            slot: tuple(counts)
            for slot, *counts in session.execute(
                select(per_ws.slot, *(per_ws[c] for c in columns)).where(
                    per_ws.workspace_id == workspace_id
                )
            )
            if any(counts)
        }
    return apps, whole


def expected_conversations(
    events: list[dict[str, Any]], *, now: Micros
) -> list[tuple[str, Micros, int]]:
    """(app, start, requests) of every completed billable conversation session, by the
    pure rules applied to the whole history."""
    unique = {(e["source"], e["id"]): e for e in reversed(events)}  # first one wins
    histories: dict[tuple[str, str], list[ConversationEvent]] = defaultdict(list)
    for e in unique.values():
        if e["type"] in KINDS:
            data = e["data"]
            histories[(e["subject"], data["conversation_id"])].append(
                ConversationEvent(
                    time=to_micros(datetime.fromisoformat(e["time"]).astimezone(UTC)),
                    kind=KINDS[e["type"]],
                    event_id=e["id"],
                    source=e["source"],
                    sender=data.get("sender"),
                    channel=data.get("channel"),
                    developer=data.get("developer", False),
                )
            )
    return [
        (app, s.start, s.requests)
        for (app, _conversation), history in histories.items()
        for s in sessionize(history, idle_timeout=APP_TIMEOUTS[app] * MINUTE, now=now)
        if s.completed and s.billable
    ]


def expected_rollups(
    sessions: Counter[ExpectedSession], conversations: list[tuple[str, Micros, int]]
) -> tuple[dict[Any, Counts], dict[Any, Counts]]:
    order = {"usage": 0, "alert": 1, "voice": 2}
    apps: dict[Any, list[int]] = {}
    whole: dict[Any, list[int]] = {}
    for s, count in sessions.items():
        slot = slot_of(s.start)
        apps.setdefault((s.app_id, slot), [0] * 5)[order[s.type]] += count
        whole.setdefault(slot, [0] * 5)[order[s.type]] += count
    for app, start, requests in conversations:
        slot = slot_of(start)
        for counts in (apps.setdefault((app, slot), [0] * 5), whole.setdefault(slot, [0] * 5)):
            counts[3] += 1
            counts[4] += requests
    return (
        {k: tuple(v) for k, v in apps.items() if any(v)},
        {k: tuple(v) for k, v in whole.items() if any(v)},
    )


def stored_seats(
    engine: Engine, workspace_id: str
) -> dict[tuple[str, str], list[tuple[Micros, Micros | None]]]:
    s = table_of(SeatInterval).c
    seats: dict[tuple[str, str], list[tuple[Micros, Micros | None]]] = {}
    with unit_of_work(engine, write=False) as session:
        for app, agent, start, end in session.execute(
            select(s.app_id, s.agent_id, s.start, s.end)
            .where(s.workspace_id == workspace_id)
            .order_by(s.start)
        ):
            seats.setdefault((app, agent), []).append((start, end))
    return seats


def check_against_rules(
    engine: Engine, workspace_id: str, events: list[dict[str, Any]], *, now: Micros
) -> None:
    expected = Counter(expected_sessions(events, now=now))
    assert stored_sessions(engine, workspace_id) == expected
    conversations = expected_conversations(events, now=now)
    assert rollups(engine, workspace_id) == expected_rollups(expected, conversations)
    want_seats = {
        key: [(i.start, i.end) for i in intervals]
        for key, intervals in expected_seats(events).items()
        if intervals
    }
    assert stored_seats(engine, workspace_id) == want_seats
