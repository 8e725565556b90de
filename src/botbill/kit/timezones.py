from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(name: str) -> str:
    """The name itself when it is an IANA timezone, else a ValueError saying so."""
    if name not in _known():
        raise ValueError(f"{name!r} is not an IANA timezone (e.g. UTC, Asia/Kolkata)")
    return name


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(check_timezone(name))
    except ZoneInfoNotFoundError as error:  # pragma: no cover - guarded by check_timezone
        raise ValueError(str(error)) from None
