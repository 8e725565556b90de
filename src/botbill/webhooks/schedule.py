"""When a failed delivery is tried again (API.md "Webhooks"): a pure rule."""

from __future__ import annotations

from botbill.kit.instants import Micros

SECOND: Micros = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

RETRY_DELAYS: tuple[Micros, ...] = (
    5 * SECOND,
    5 * MINUTE,
    30 * MINUTE,
    2 * HOUR,
    5 * HOUR,
    10 * HOUR,
    10 * HOUR,
)
"""The wait after the 1st, 2nd, ... failed attempt; after the last one the delivery is
``failed``. Eight attempts over 27 h 35 min: retried for at least 24 hours (SPEC §8)."""

MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def next_attempt(attempts: int, failed_at: Micros) -> Micros | None:
    """When to try again after the ``attempts``-th attempt failed at ``failed_at``, or
    ``None`` when that was the last one."""
    if attempts < 1:
        raise ValueError("a delivery is retried only after an attempt")
    if attempts > len(RETRY_DELAYS):
        return None
    return failed_at + RETRY_DELAYS[attempts - 1]
