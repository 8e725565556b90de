"""The soak's traffic: the apps it creates and the CloudEvents its clients send.

Conversations are the demo's scripts (``botbill.demo.conversation``), each kept whole in
one batch, so that a batch refused with 429 and sent again leaves no conversation half
stored. They start 3 to 5 hours before the batch is made and no event is later than 45
minutes before it: by the time the counts are checked every conversation session is
completed by its idle timeout (30 minutes at most here) or its ``ended`` event, so the
server's completed sessions and the rules' agree without a race at the edge.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Any

import orjson

from botbill.demo.conversation import script
from botbill.kit.instants import HOUR, MINUTE, Micros, from_micros

BATCH = 500
LONGEST_CONVERSATION = 200
"""Events of one conversation at most (the longest scripts run past a batch); a
conversation cut short is still a conversation, and the rules see what was sent."""
NEWEST: Micros = 45 * MINUTE
"""No event is newer than this before the batch is made: longer than any idle timeout."""
ALERT_PRICE, USAGE_PRICE, VOICE_PRICE, SEAT_DAY_PRICE = 20, 20, 30, 200
"""The standard plan's prices (minor units), which every soak app is on."""


@dataclass(frozen=True, slots=True)
class SoakApp:
    id: str
    idle_timeout_minutes: int
    voice_share: float = 0.0
    developer_share: float = 0.02
    handoff_share: float = 0.0
    seats: int = 0
    """Agents each ingest client seats on this app (yesterday and today)."""


LOAD_APPS = (
    SoakApp("soak-support", 15, voice_share=0.05, handoff_share=0.12, seats=3),
    SoakApp("soak-sales", 30, handoff_share=0.08, seats=2),
    SoakApp("soak-voice", 5, voice_share=0.9),
    SoakApp("soak-faq", 15),
    SoakApp("soak-internal", 15, developer_share=0.3),
    SoakApp("soak-orders", 10, voice_share=0.1),
)
PROBE_APP = SoakApp("soak-entitlement", 15)
"""Funded with the smallest order and exhausted by alerts during the load."""
PROBE_FUNDS = 10_000
PROBE_ALERTS = PROBE_FUNDS // ALERT_PRICE + 1
"""One alert session more than the funds pay for: the balance ends at -20."""


def iso(instant: Micros) -> str:
    return from_micros(instant).isoformat().replace("+00:00", "Z")


def event(source: str, event_id: str, kind: str, at: Micros, app: str, data: Any) -> Any:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": kind,
        "time": iso(at),
        "subject": app,
        "data": data,
    }


class Traffic:
    """One ingest client's stream of 500-event batches; ids are unique per client."""

    def __init__(self, client: int, *, seed: int = 13) -> None:
        self.client = client
        self.source = f"soak-ingest-{client}"
        self.rng = random.Random(seed * 1009 + client)
        self.ids = itertools.count()
        self.conversation_numbers = itertools.count()
        self.carried: list[Any] = []
        self.seats_sent = False

    def body(self, now: Micros) -> bytes:
        return orjson.dumps(self.batch(now))

    def batch(self, now: Micros) -> list[Any]:
        """Whole conversations up to 500 events, the rest alerts; the first batch also
        seats this client's agents."""
        events: list[Any] = []
        if not self.seats_sent:
            events += self.seat_events(now)
            self.seats_sent = True
        events += self.carried
        self.carried = []
        while True:
            conversation = self.conversation(now)
            if len(events) + len(conversation) > BATCH:
                self.carried = conversation
                break
            events += conversation
        events += self.alerts(now, BATCH - len(events))
        return events

    def _id(self) -> str:
        return str(next(self.ids))

    def conversation(self, now: Micros) -> list[Any]:
        rng = self.rng
        app = rng.choice(LOAD_APPS)
        number = next(self.conversation_numbers)
        drafts = script(
            rng,
            conversation_id=f"c{self.client}-{number}",
            start=now - rng.randrange(3 * HOUR, 5 * HOUR),
            channel="voice" if rng.random() < app.voice_share else "chat",
            developer=rng.random() < app.developer_share,
            idle_timeout=app.idle_timeout_minutes * MINUTE,
            agent_id=f"agent-{rng.randrange(4)}" if rng.random() < app.handoff_share else None,
        )
        newest = now - NEWEST
        return [
            event(self.source, self._id(), kind, at, app.id, data)
            for at, kind, data in drafts[:LONGEST_CONVERSATION]
            if at <= newest
        ]

    def alerts(self, now: Micros, count: int) -> list[Any]:
        rng = self.rng
        result = []
        for _ in range(count):
            data: dict[str, Any] = {
                "alert_id": f"a{self.client}-{self._id()}",
                "user_id": f"u{rng.randrange(10_000)}",
            }
            if rng.random() < 0.05:
                data["developer"] = True
            at = now - rng.randrange(10 * MINUTE, 4 * HOUR)
            app = rng.choice(LOAD_APPS).id
            result.append(event(self.source, self._id(), "alert.delivered", at, app, data))
        return result

    def seat_events(self, now: Micros) -> list[Any]:
        """Per seat: a shift that ended about a day ago (an ended day to charge) and one
        begun a few hours ago, released for odd agents and still held for even ones."""
        result = []
        for app in LOAD_APPS:
            for k in range(app.seats):
                agent = f"seat-{self.client}-{k}"
                shifts = [
                    ("agent.seat_assigned", now - 30 * HOUR + k * HOUR),
                    ("agent.seat_released", now - 22 * HOUR + k * 30 * MINUTE),
                    ("agent.seat_assigned", now - 4 * HOUR + k * 10 * MINUTE),
                ]
                if k % 2:
                    shifts.append(("agent.seat_released", now - HOUR))
                for kind, at in shifts:
                    data = {"agent_id": agent}
                    result.append(event(self.source, self._id(), kind, at, app.id, data))
        return result


def alert_burst(app_id: str, count: int, now: Micros, *, source: str) -> list[Any]:
    """``count`` alert sessions for one app, a minute old."""
    return [
        event(source, f"burst-{i}", "alert.delivered", now - MINUTE, app_id, {"alert_id": f"a{i}"})
        for i in range(count)
    ]
