"""The engine's background pass: what keeps usage and balances current within seconds."""

from __future__ import annotations

from sqlalchemy import Engine

from botbill.kit.clock import Clock
from botbill.metering.jobs import run_completion
from botbill.metering.pending import run_metering
from botbill.rating.service import run_rating, run_seat_days


def engine_pass(engine: Engine, clock: Clock) -> int:
    """One round of the engine's background work: meter what ingest left pending,
    complete idle sessions, rate them, rate the seat-days that ended."""
    return (
        run_metering(engine, clock)
        + run_completion(engine, clock)
        + run_rating(engine, clock)
        + run_seat_days(engine, clock)
    )
