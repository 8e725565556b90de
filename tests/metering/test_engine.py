"""The engine on a real database: incremental state equals the pure rules and a rebuild."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine

from botbill.engine.rebuild import rebuild
from botbill.kit.clock import FrozenClock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import DAY, to_micros
from botbill.metering.jobs import run_completion
from tests.conftest import _clean
from tests.factories import T0
from tests.histories import ON_A_DATABASE, events_of, sent_histories
from tests.metering.factories import (
    NOW,
    check_against_rules,
    rollups,
    send,
    setup_workspace,
    stored_seats,
    stored_sessions,
)


@pytest.mark.timeout(600)  # a failure shrinks for up to five minutes: leave it the time
@settings(
    max_examples=25,
    deadline=None,
    phases=ON_A_DATABASE,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batches=sent_histories(now=NOW, span=3 * DAY))
def test_incremental_state_equals_the_rules_and_a_rebuild(
    db: Engine, batches: list[list[dict[str, Any]]]
) -> None:
    _clean(db)
    workspace_id = setup_workspace(db)
    for batch in batches:
        send(db, workspace_id, batch, now=NOW)
    run_completion(db, FrozenClock(NOW))
    check_against_rules(db, workspace_id, events_of(batches), now=NOW)

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
    assert sum(counts[0] for counts in whole.values()) == 3
