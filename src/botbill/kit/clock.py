"""The one place botbill asks what time it is, so tests can hold the clock still."""

from __future__ import annotations

import time
from typing import Protocol

from botbill.kit.instants import Micros


class Clock(Protocol):
    def now(self) -> Micros: ...


class SystemClock:
    def now(self) -> Micros:
        return time.time_ns() // 1_000


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, now: Micros) -> None:
        self._now = now

    def now(self) -> Micros:
        return self._now

    def set(self, now: Micros) -> None:
        self._now = now

    def advance(self, by: Micros) -> None:
        self._now += by
