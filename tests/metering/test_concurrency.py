"""On PostgreSQL, concurrent ingests of one conversation and concurrent completion jobs
lose and double nothing: the result equals the rules applied to the whole history."""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

from sqlalchemy import Engine, func, select

from botbill.kit.clock import FrozenClock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import DAY, MINUTE
from botbill.metering.jobs import run_completion
from botbill.metering.models import PendingMetering
from botbill.metering.pending import has_pending, run_metering
from tests.factories import postgresql_only, run_all
from tests.histories import expected_sessions, random_history, shuffled_batches
from tests.metering.factories import (
    NOW,
    check_against_rules,
    send,
    setup_workspace,
    store,
    stored_sessions,
)


@postgresql_only
def test_parallel_ingest_of_the_same_conversations(db: Engine) -> None:
    workspace_id = setup_workspace(db)
    rng = random.Random(7)
    events = random_history(rng, now=NOW, span=2 * DAY, conversations=8)
    # Six writers each send every event in their own order and batch sizes.
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        local = random.Random(seed)
        mine = events[:]
        local.shuffle(mine)
        try:
            while mine:
                size = local.randint(1, 6)
                send(db, workspace_id, mine[:size], now=NOW)
                mine = mine[size:]
        except BaseException as error:  # surfaced below, in the test's thread
            errors.append(error)

    run_all([threading.Thread(target=writer, args=(seed,)) for seed in range(6)])
    assert errors == []
    check_against_rules(db, workspace_id, events, now=NOW)


@postgresql_only
def test_parallel_completion_jobs_complete_each_session_once(db: Engine) -> None:
    workspace_id = setup_workspace(db)
    rng = random.Random(11)
    # All within the last half hour, so that most sessions are still open at NOW.
    events: list[dict[str, Any]] = random_history(rng, now=NOW, span=30 * MINUTE, conversations=60)
    send(db, workspace_id, events, now=NOW)
    open_before = len(expected_sessions(events, now=NOW + 60 * MINUTE)) - sum(
        stored_sessions(db, workspace_id).values()
    )
    assert open_before > 0
    later = FrozenClock(NOW + 60 * MINUTE)
    results: list[int] = []
    run_all(
        [
            threading.Thread(target=lambda: results.append(run_completion(db, later)))
            for _ in range(4)
        ]
    )
    assert sum(results) > 0
    check_against_rules(db, workspace_id, events, now=later.now())
    assert sum(stored_sessions(db, workspace_id).values()) == len(
        expected_sessions(events, now=later.now())
    )
    assert Counter(stored_sessions(db, workspace_id)) == Counter(
        expected_sessions(events, now=later.now())
    )


@postgresql_only
def test_parallel_drains_while_writers_ingest(db: Engine) -> None:
    """Writers store shuffled batches (replays included) while background drains (SKIP
    LOCKED) and reads' drains (waiting on held rows) meter in small chunks at once."""
    workspace_id = setup_workspace(db)
    events = random_history(random.Random(13), now=NOW, span=2 * DAY, conversations=20)
    clock = FrozenClock(NOW)
    writing = threading.Event()
    errors: list[BaseException] = []
    drained: list[int] = []

    def guarded(work: Any) -> threading.Thread:
        def run() -> None:
            try:
                work()
            except BaseException as error:  # surfaced below, in the test's thread
                errors.append(error)

        return threading.Thread(target=run)

    def writer(seed: int) -> None:
        local = random.Random(seed)
        mine = events[:]
        local.shuffle(mine)
        while mine:
            size = local.randint(1, 10)
            store(db, workspace_id, mine[:size], now=NOW)
            mine = mine[size:]

    def writers_then_flag() -> None:
        threads = [guarded(lambda seed=seed: writer(seed)) for seed in range(4)]
        run_all(threads)
        writing.set()

    def drainer(one_workspace: bool) -> None:
        while not writing.is_set():
            drained.append(
                run_metering(
                    db, clock, workspace_id=workspace_id if one_workspace else None, chunk=7
                )
            )

    run_all(
        [
            guarded(writers_then_flag),
            *(guarded(lambda: drainer(False)) for _ in range(3)),
            *(guarded(lambda: drainer(True)) for _ in range(2)),
        ]
    )
    assert errors == []
    assert sum(drained) > 0
    run_metering(db, clock, workspace_id=workspace_id)
    check_against_rules(db, workspace_id, events, now=NOW)


@postgresql_only
def test_parallel_drains_of_a_backlog_meter_each_row_once(db: Engine) -> None:
    workspace_id = setup_workspace(db)
    events = random_history(random.Random(17), now=NOW, span=2 * DAY, conversations=30)
    rng = random.Random(1)
    for batch in shuffled_batches(rng, events):
        store(db, workspace_id, batch, now=NOW)
    with unit_of_work(db, write=False) as session:
        backlog = session.scalar(select(func.count()).select_from(PendingMetering)) or 0
    assert backlog > 100
    clock = FrozenClock(NOW)
    taken: list[int] = []
    run_all(
        [
            threading.Thread(
                target=lambda ws=ws: taken.append(run_metering(db, clock, workspace_id=ws, chunk=5))
            )
            for ws in (None, None, None, workspace_id, workspace_id)
        ]
    )
    with unit_of_work(db, write=False) as session:
        assert not has_pending(session, workspace_id=workspace_id)
        assert session.scalar(select(func.count()).select_from(PendingMetering)) == 0
    # Every pending row was taken by exactly one drainer: none lost, none taken twice.
    assert sum(taken) == backlog
    check_against_rules(db, workspace_id, events, now=NOW)
