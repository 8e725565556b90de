"""The platform's date-time formats."""

from __future__ import annotations

from functools import lru_cache

from botbill.kit.instants import Micros, from_micros


def platform_datetime(instant: Micros) -> str:
    """``MM-DD-YYYY h:mm:ss am`` in UTC, as the Billing Sessions API writes it
    (``"03-10-2021 2:05:03 pm"``): a 12-hour clock without a leading zero."""
    moment = from_micros(instant)
    hour = moment.hour % 12 or 12
    half = "am" if moment.hour < 12 else "pm"
    return f"{moment:%m-%d-%Y} {hour}:{moment:%M:%S} {half}"


@lru_cache(maxsize=4096)  # a summary repeats its few thousand period starts once per bot
def iso_millis(instant: Micros) -> str:
    """``2023-04-27T06:19:11.034Z``: UTC with milliseconds, as the job records write it."""
    moment = from_micros(instant)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"
