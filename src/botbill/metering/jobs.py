"""The completion job: closes sessions whose idle timeout has passed.

It runs in the engine's job thread (``botbill.engine.passes.engine_pass``); on
PostgreSQL several processes share the work safely (SKIP LOCKED), on SQLite writers take
turns on the database lock.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from botbill.kit.clock import Clock
from botbill.kit.db import unit_of_work
from botbill.metering import pending
from botbill.metering.service import complete_due, has_due
from botbill.ops.metrics import SESSIONS_COMPLETED_BY_IDLE

log = logging.getLogger(__name__)


def run_completion(engine: Engine, clock: Clock, *, workspace_id: str | None = None) -> int:
    """Complete everything due now; returns how many conversations were closed."""
    total = 0
    while True:
        with unit_of_work(engine, write=True) as session:
            done = complete_due(session, now=clock.now(), workspace_id=workspace_id)
        total += done
        if done == 0:
            break
    if total:
        SESSIONS_COMPLETED_BY_IDLE.inc(total)
        log.info("completed idle sessions", extra={"conversations": total})
    return total


def settle(engine: Engine, clock: Clock, *, workspace_id: str) -> None:
    """What the events already decided, done for one workspace before a read: its pending
    metering drained and its idle sessions completed. A read transaction checks first,
    so the usual case stays a read."""
    pending.settle(engine, clock, workspace_id=workspace_id)
    with unit_of_work(engine, write=False) as session:
        due = has_due(session, workspace_id=workspace_id, now=clock.now())
    if due:
        run_completion(engine, clock, workspace_id=workspace_id)
