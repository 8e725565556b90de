"""The completion job: closes sessions whose idle timeout has passed.

It runs in the engine's job thread (``botbill.rating.service.engine_pass``); on
PostgreSQL several processes share the work safely (SKIP LOCKED), on SQLite writers take
turns on the database lock.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from botbill.kit.clock import Clock
from botbill.kit.db import unit_of_work
from botbill.metering.service import complete_due
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
