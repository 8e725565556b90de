"""On PostgreSQL, concurrent ingests of one conversation and concurrent completion jobs
lose and double nothing: the result equals the rules applied to the whole history."""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Engine

from botbill.kit.clock import FrozenClock
from botbill.kit.instants import DAY, MINUTE
from botbill.metering.jobs import run_completion
from tests.histories import expected_sessions, random_history
from tests.metering.test_engine import (
    NOW,
    check_against_rules,
    send,
    setup_workspace,
    stored_sessions,
)


def run_all(workers: list[threading.Thread]) -> None:
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert not worker.is_alive()


# SQLite serializes writers on its database lock; these races are PostgreSQL's.
postgresql_only = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


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
