"""Instants as integer microseconds since the Unix epoch, UTC.

The metering core works on plain integers: exact (no float seconds), cheap to compare and
to store, and free of timezone ambiguity. Conversions to and from aware datetimes happen
only at the edges (HTTP, CLI, rendering).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

Micros = int
"""An instant: microseconds since 1970-01-01T00:00:00Z."""

MICROSECOND: Micros = 1
SECOND: Micros = 1_000_000
MINUTE: Micros = 60 * SECOND
HOUR: Micros = 60 * MINUTE
DAY: Micros = 24 * HOUR
SLOT: Micros = 15 * MINUTE
"""The rollup grain: every real UTC offset is a multiple of 15 minutes (SPEC §2.8)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(moment: datetime) -> Micros:
    """An aware datetime as microseconds since the epoch; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: an instant needs a UTC offset")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * SECOND + delta.microseconds


def from_micros(instant: Micros) -> datetime:
    """Microseconds since the epoch as an aware UTC datetime (exact)."""
    return _EPOCH + timedelta(microseconds=instant)


def slot_of(instant: Micros) -> int:
    """The index of the 15-minute UTC slot holding ``instant``."""
    return instant // SLOT
