"""The worker: the engine's background work in one loop, in its own process or thread.

Every ``completion_interval`` it runs the engine pass (meter what ingest left pending,
complete idle sessions, rate, rate the seat-days that ended), and between passes it rates
every second what metering queued. Between passes it looks at
the metering backlog every ``POLL_SECONDS``: past half of ``max_pending_events`` (the
bound at which ingest answers 429) it runs a pass at once, so a burst is metered in
large, economical drains instead of waiting for the timer, and ingest is held back only
when the drain cannot keep up. Every ``lifecycle_interval`` it runs the lifecycle job.

``botbill serve`` starts it as a process of its own beside the HTTP processes (``botbill
worker``), so metering never competes with requests for a server process's interpreter;
in production it may run on its own host. Several workers share the work safely.

Every ``webhook_sweep_seconds`` it announces what time and usage changed
(``engine/announcements.py``). Webhook deliveries go out from a thread of their own, so
a slow receiver (up to the 15 s timeout) never holds up metering.
"""

from __future__ import annotations

import logging
import os
import threading
from time import monotonic

from sqlalchemy import Engine, func, select

from botbill.engine.announcements import announce_states
from botbill.engine.lifecycle import lifecycle_pass
from botbill.engine.passes import engine_pass
from botbill.kit.clock import Clock
from botbill.kit.db import table_of, unit_of_work
from botbill.metering.models import PendingMetering
from botbill.orders.providers import card_provider
from botbill.rating.service import run_rating
from botbill.settings import Settings
from botbill.webhooks.sender import BATCH, deliver_due, new_client

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
RATING_SECONDS = 1.0
"""Rating runs this often between passes: it is cheap (one ledger entry per app), and a
short queue keeps the reads that add what is not booked yet (entitlement) fast."""

_pending = table_of(PendingMetering)


def backlog_past(engine: Engine, threshold: int) -> bool:
    """Whether at least ``threshold`` ingested events wait for metering, all workspaces
    together (reads at most ``threshold`` rows)."""
    rows = select(_pending.c.events).limit(threshold).subquery()
    with unit_of_work(engine, write=False) as session:
        waiting = session.scalar(select(func.coalesce(func.sum(rows.c.events), 0))) or 0
    return int(waiting) >= threshold


class Worker:
    def __init__(
        self, engine: Engine, clock: Clock, settings: Settings, *, parent: int | None = None
    ) -> None:
        """``parent``: the process that started this worker; when it is gone (killed
        before it could stop us), the worker stops too."""
        self._parent = parent
        self._engine = engine
        self._clock = clock
        self._settings = settings
        self._cards = card_provider(settings.effective_card_provider)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Work until :meth:`stop`; a failure is logged and retried at the next turn."""
        sender = threading.Thread(target=self._deliver, name="botbill-webhooks", daemon=True)
        sender.start()
        try:
            self._loop()
        finally:
            self._stop.set()
            sender.join(timeout=30)

    def _loop(self) -> None:
        settings = self._settings
        kick = max(settings.max_pending_events // 2, 1)
        next_pass = next_rating = 0.0
        next_lifecycle = monotonic() + settings.lifecycle_interval_seconds
        next_sweep = monotonic() + settings.webhook_sweep_seconds
        while not self._stop.is_set():
            if self._parent is not None and os.getppid() != self._parent:
                log.info("the server process is gone; the worker stops")
                return
            now = monotonic()
            try:
                if now >= next_pass or backlog_past(self._engine, kick):
                    engine_pass(self._engine, self._clock)
                    next_pass = next_rating = monotonic() + settings.completion_interval_seconds
                elif now >= next_rating:
                    run_rating(self._engine, self._clock)
                    next_rating = monotonic() + RATING_SECONDS
                if now >= next_lifecycle:
                    lifecycle_pass(self._engine, self._clock, cards=self._cards)
                    next_lifecycle = monotonic() + settings.lifecycle_interval_seconds
                if now >= next_sweep:
                    next_sweep = monotonic() + settings.webhook_sweep_seconds
                    announce_states(
                        self._engine, self._clock, low_balance=settings.low_balance_threshold
                    )
            except Exception:
                log.exception("background work failed; retrying")
                next_pass = monotonic() + settings.completion_interval_seconds
            self._stop.wait(POLL_SECONDS)

    def _deliver(self) -> None:
        """Send due webhook deliveries until stopped; at once again while there are more."""
        settings = self._settings
        production = settings.environment == "production"
        with new_client() as client:
            while not self._stop.is_set():
                try:
                    sent = deliver_due(
                        self._engine,
                        client,
                        now=self._clock.now(),
                        production=production,
                        concurrency=settings.webhook_concurrency,
                    )
                except Exception:
                    log.exception("webhook deliveries failed; retrying")
                    sent = 0
                if sent < BATCH:
                    self._stop.wait(settings.webhook_poll_seconds)

    def start(self) -> None:
        """Run in a thread of this process."""
        self._thread = threading.Thread(target=self.run, name="botbill-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
