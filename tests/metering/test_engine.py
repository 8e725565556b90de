"""The engine on a real database: incremental state equals the pure rules and a rebuild."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from botbill.apps.schemas import AppCreate
from botbill.apps.service import create_app
from botbill.engine.rebuild import rebuild
from botbill.events.parsing import parse_events
from botbill.events.service import TimeLimits
from botbill.ingest.service import ingest
from botbill.kit.clock import FrozenClock
from botbill.kit.db import table_of, unit_of_work
from botbill.kit.instants import DAY, Micros, slot_of, to_micros
from botbill.metering.jobs import run_completion
from botbill.metering.models import BillingSession, SeatInterval, UsageRollup, WorkspaceUsageRollup
from botbill.metering.pending import run_metering
from tests.conftest import _clean
from tests.factories import T0, make_workspace
from tests.histories import (
    APP_TIMEOUTS,
    ExpectedSession,
    expected_seats,
    expected_sessions,
    random_history,
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


def rollups(
    engine: Engine, workspace_id: str
) -> tuple[dict[Any, tuple[int, ...]], dict[Any, tuple[int, ...]]]:
    per_app = table_of(UsageRollup).c
    per_ws = table_of(WorkspaceUsageRollup).c
    with unit_of_work(engine, write=False) as session:
        apps: dict[Any, tuple[int, ...]] = {
            (app, slot): (u, a, v)
            for app, slot, u, a, v in session.execute(
                select(
                    per_app.app_id,
                    per_app.slot,
                    per_app.usage_sessions,
                    per_app.alert_sessions,
                    per_app.voice_sessions,
                ).where(per_app.workspace_id == workspace_id)
            )
            if (u, a, v) != (0, 0, 0)
        }
        whole: dict[Any, tuple[int, ...]] = {
            slot: (u, a, v)
            for slot, u, a, v in session.execute(
                select(
                    per_ws.slot, per_ws.usage_sessions, per_ws.alert_sessions, per_ws.voice_sessions
                ).where(per_ws.workspace_id == workspace_id)
            )
            if (u, a, v) != (0, 0, 0)
        }
    return apps, whole


def expected_rollups(
    sessions: Counter[ExpectedSession],
) -> tuple[dict[Any, tuple[int, ...]], dict[Any, tuple[int, ...]]]:
    order = {"usage": 0, "alert": 1, "voice": 2}
    apps: dict[Any, list[int]] = {}
    whole: dict[Any, list[int]] = {}
    for s, count in sessions.items():
        slot = slot_of(s.start)
        apps.setdefault((s.app_id, slot), [0, 0, 0])[order[s.type]] += count
        whole.setdefault(slot, [0, 0, 0])[order[s.type]] += count
    return {k: tuple(v) for k, v in apps.items()}, {k: tuple(v) for k, v in whole.items()}


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
    assert rollups(engine, workspace_id) == expected_rollups(expected)
    want_seats = {
        key: [(i.start, i.end) for i in intervals]
        for key, intervals in expected_seats(events).items()
        if intervals
    }
    assert stored_seats(engine, workspace_id) == want_seats


def shuffled_batches(
    rng: random.Random, events: list[dict[str, Any]]
) -> list[list[dict[str, Any]]]:
    """The events in random order and batch sizes, some of them sent twice."""
    sent = events + rng.sample(events, k=len(events) // 4)
    rng.shuffle(sent)
    batches: list[list[dict[str, Any]]] = []
    while sent:
        size = rng.randint(1, 40)
        batches.append(sent[:size])
        sent = sent[size:]
    return batches


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1))
def test_incremental_state_equals_the_rules_and_a_rebuild(db: Engine, seed: int) -> None:
    _clean(db)
    rng = random.Random(seed)
    workspace_id = setup_workspace(db)
    events = random_history(rng, now=NOW, span=3 * DAY, conversations=25)
    for batch in shuffled_batches(rng, events):
        send(db, workspace_id, batch, now=NOW)
    run_completion(db, FrozenClock(NOW))
    check_against_rules(db, workspace_id, events, now=NOW)

    incremental = (
        stored_sessions(db, workspace_id),
        rollups(db, workspace_id),
        stored_seats(db, workspace_id),
    )
    with unit_of_work(db, write=True) as session:
        rebuild(session, workspace_id=workspace_id, now=NOW)
    assert (
        stored_sessions(db, workspace_id),
        rollups(db, workspace_id),
        stored_seats(db, workspace_id),
    ) == incremental


def message(
    n: int, at: datetime, *, sender: str = "user", kind: str = "conversation.message"
) -> dict[str, Any]:
    data: dict[str, Any] = {"conversation_id": "c"}
    if kind == "conversation.message":
        data["sender"] = sender
    return {
        "specversion": "1.0",
        "id": f"m{n}",
        "source": "rt",
        "type": kind,
        "subject": "chat-bot",
        "time": at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }


def test_sessions_complete_by_idle_time_through_the_job(db: Engine) -> None:
    workspace_id = setup_workspace(db)
    last = T0 - timedelta(minutes=8)
    events = [
        message(1, last - timedelta(minutes=2), kind="conversation.started"),
        message(2, last - timedelta(minutes=1), sender="user"),
        message(3, last, sender="bot"),
    ]
    send(db, workspace_id, events, now=NOW)
    # In progress until the silence is strictly longer than the 15-minute idle timeout.
    assert stored_sessions(db, workspace_id) == Counter()
    clock = FrozenClock(to_micros(last + timedelta(minutes=15)))
    assert run_completion(db, clock) == 0
    assert stored_sessions(db, workspace_id) == Counter()
    clock.advance(1)
    assert run_completion(db, clock) == 1
    check_against_rules(db, workspace_id, events, now=clock.now())
    assert sum(stored_sessions(db, workspace_id).values()) == 1
    assert run_completion(db, clock) == 0


def test_a_late_event_changes_only_the_difference(db: Engine) -> None:
    workspace_id = setup_workspace(db)
    base = T0 - timedelta(hours=3)

    def at(minute: int) -> datetime:
        return base + timedelta(minutes=minute)

    # Two sessions split by a 20-minute silence: 0..10 and 30..40 (idle timeout 15).
    first = [message(1, at(0)), message(2, at(10)), message(3, at(30)), message(4, at(40))]
    send(db, workspace_id, first, now=NOW)
    check_against_rules(db, workspace_id, first, now=NOW)
    assert sum(stored_sessions(db, workspace_id).values()) == 2
    # A late message at minute 20 bridges the gap: one session of 40 minutes, 3 blocks.
    late = [message(5, at(20), sender="bot")]
    send(db, workspace_id, late, now=NOW)
    check_against_rules(db, workspace_id, first + late, now=NOW)
    assert sum(stored_sessions(db, workspace_id).values()) == 3
    _, whole = rollups(db, workspace_id)
    assert sum(u for u, _, _ in whole.values()) == 3
