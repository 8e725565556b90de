"""The completion job: closes sessions whose idle timeout has passed.

It runs in a thread of each server process; on PostgreSQL several processes share the
work safely (SKIP LOCKED), on SQLite writers take turns on the database lock.
"""

from __future__ import annotations

import logging
import threading

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
    return total


class CompletionJob:
    def __init__(self, engine: Engine, clock: Clock, *, interval: float) -> None:
        self._engine = engine
        self._clock = clock
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="botbill-completion", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                closed = run_completion(self._engine, self._clock)
                if closed:
                    log.info("completed idle sessions", extra={"conversations": closed})
            except Exception:
                log.exception("completion job failed; retrying next interval")
