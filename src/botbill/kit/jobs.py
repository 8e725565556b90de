"""A unit of background work run every few seconds in a thread of the server process.

On PostgreSQL several processes run the same jobs safely (their work takes rows with
SKIP LOCKED); on SQLite writers take turns on the database lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class PeriodicJob:
    """Calls ``work`` every ``interval`` seconds until stopped; a failure is logged and
    retried at the next interval, never fatal to the server."""

    def __init__(self, name: str, work: Callable[[], object], *, interval: float) -> None:
        self._name = name
        self._work = work
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"botbill-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._work()
            except Exception:
                log.exception("job %s failed; retrying next interval", self._name)
