"""Metering off the request path: ingest leaves pending rows, the drain meters them.

Whatever the chunks the drain takes and however many batches pile up before it runs,
the state it leaves equals the rules applied to the whole history (and a rebuild).
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from botbill.engine.rebuild import rebuild
from botbill.kit.clock import FrozenClock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import DAY
from botbill.metering.jobs import run_completion
from botbill.metering.models import PendingMetering, RatingQueueEntry
from botbill.metering.pending import drain, has_pending, settle
from tests.conftest import _clean
from tests.histories import ON_A_DATABASE, events_of, random_history, sent_histories
from tests.metering.factories import (
    NOW,
    check_against_rules,
    rollups,
    setup_workspace,
    store,
    stored_seats,
    stored_sessions,
)
from tests.rating.factories import completed_sessions


def pending_rows(engine: Engine) -> int:
    with unit_of_work(engine, write=False) as session:
        return session.scalar(select(func.count()).select_from(PendingMetering)) or 0


def queued(engine: Engine) -> int:
    with unit_of_work(engine, write=False) as session:
        return session.scalar(select(func.count()).select_from(RatingQueueEntry)) or 0


def test_ingest_stores_and_leaves_metering_to_the_drain(db: Engine) -> None:
    workspace_id = setup_workspace(db)
    events = random_history(random.Random(3), now=NOW, span=DAY, conversations=10)
    store(db, workspace_id, events, now=NOW)
    assert pending_rows(db) > 0
    # Conversations are not metered on the way in; alerts (no history to read) are.
    assert {s.type for s in stored_sessions(db, workspace_id)} == {"alert"}
    with unit_of_work(db, write=False) as session:
        assert has_pending(session, workspace_id=workspace_id)

    settle(db, FrozenClock(NOW), workspace_id=workspace_id)
    assert pending_rows(db) == 0
    check_against_rules(db, workspace_id, events, now=NOW)
    # The diff queued every completed session for rating, as metering in the request did.
    assert queued(db) == len(completed_sessions(db, workspace_id)) > 0


def test_a_drain_of_one_workspace_leaves_the_others(db: Engine) -> None:
    first, second = setup_workspace(db), setup_workspace(db)
    events = random_history(random.Random(5), now=NOW, span=DAY, conversations=6)
    store(db, first, events, now=NOW)
    store(db, second, events, now=NOW)
    settle(db, FrozenClock(NOW), workspace_id=first)
    with unit_of_work(db, write=False) as session:
        assert not has_pending(session, workspace_id=first)
        assert has_pending(session, workspace_id=second)
    check_against_rules(db, first, events, now=NOW)
    assert {s.type for s in stored_sessions(db, second)} == {"alert"}


@pytest.mark.timeout(600)  # a failure shrinks for up to five minutes: leave it the time
@settings(
    max_examples=20,
    deadline=None,
    phases=ON_A_DATABASE,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batches=sent_histories(now=NOW, span=3 * DAY), data=st.data())
def test_drains_of_any_size_at_any_point_equal_the_rules(
    db: Engine, batches: list[list[dict[str, Any]]], data: st.DataObject
) -> None:
    """Batches pile up between drains, each drain takes any number of pending rows (a
    conversation's rows may be split across chunks); the result is the rules'."""
    _clean(db)
    workspace_id = setup_workspace(db)

    def drain_some(everything: bool) -> None:
        while True:
            # A read's drain takes its workspace's rows; the background drain takes any.
            mine = data.draw(st.booleans(), label="this workspace's rows only")
            limit = data.draw(st.integers(1, 30), label="chunk")
            with unit_of_work(db, write=True) as session:
                taken = drain(
                    session, now=NOW, workspace_id=workspace_id if mine else None, limit=limit
                )
            if taken == 0 or not everything:
                return

    for batch in batches:
        store(db, workspace_id, batch, now=NOW)
        # A drain runs after some batches: one chunk, or until nothing is pending.
        after = data.draw(st.sampled_from([None, "chunk", "everything"]), label="drain")
        if after is not None:
            drain_some(everything=after == "everything")
    drain_some(everything=True)
    assert pending_rows(db) == 0
    run_completion(db, FrozenClock(NOW))
    check_against_rules(db, workspace_id, events_of(batches), now=NOW)


def test_a_rebuild_covers_what_was_pending(db: Engine) -> None:
    workspace_id = setup_workspace(db)
    events = random_history(random.Random(9), now=NOW, span=2 * DAY, conversations=12)
    store(db, workspace_id, events, now=NOW)
    with unit_of_work(db, write=True) as session:
        rebuild(session, workspace_id=workspace_id, now=NOW)
    assert pending_rows(db) == 0
    check_against_rules(db, workspace_id, events, now=NOW)
    before = (
        stored_sessions(db, workspace_id),
        rollups(db, workspace_id),
        stored_seats(db, workspace_id),
    )
    settle(db, FrozenClock(NOW), workspace_id=workspace_id)  # nothing left to change
    after = (
        stored_sessions(db, workspace_id),
        rollups(db, workspace_id),
        stored_seats(db, workspace_id),
    )
    assert after == before
