"""Random event histories and the expected result, computed by the pure rules alone.

The engine stores, diffs and rolls up; the oracle here recomputes everything from the
full set of events with the same pure functions the SPEC examples test. End-to-end tests
compare the two.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botbill.kit.instants import MINUTE, SECOND, Micros, from_micros, to_micros
from botbill.metering.conversations import ConversationEvent, EventKind, sessionize
from botbill.metering.seats import SeatEvent, SeatEventKind, SeatInterval, seat_intervals
from botbill.usage.buckets import Window

APP_TIMEOUTS = {"chat-bot": 15, "voice-bot": 5, "slow-bot": 30}


def _iso(instant: Micros) -> str:
    return from_micros(instant).isoformat().replace("+00:00", "Z")


def random_history(
    rng: random.Random, *, now: Micros, span: Micros, conversations: int = 40
) -> list[dict[str, Any]]:
    """Conversations, alerts and seats across the apps of APP_TIMEOUTS, all before ``now``."""
    events: list[dict[str, Any]] = []
    counter = iter(range(10**9))

    def add(kind: str, app: str, at: Micros, **data: Any) -> None:
        if at > now:
            return
        source = rng.choice(["runtime-a", "runtime-b"])
        events.append(
            {
                "specversion": "1.0",
                "id": f"e{next(counter)}",
                "source": source,
                "type": kind,
                "time": _iso(at),
                "subject": app,
                "data": data,
            }
        )

    apps = list(APP_TIMEOUTS)
    for number in range(conversations):
        app = rng.choice(apps)
        conv = f"conv-{number}"
        at = now - rng.randrange(span)
        # Whole seconds or exact microseconds: the rules are exact either way.
        at -= at % SECOND if rng.random() < 0.7 else 0
        voice = app == "voice-bot" or rng.random() < 0.1
        channel = "voice" if voice else rng.choice(["chat", None])
        developer = rng.random() < 0.08
        extra: dict[str, Any] = {"channel": channel} if channel else {}
        if developer:
            extra["developer"] = True
        add("conversation.started", app, at, conversation_id=conv, **extra)
        with_agent = False
        for _ in range(rng.randrange(0, 14)):
            roll = rng.random()
            gap = rng.choice([0, 1, 5, 30, 60, 4 * 60, 9 * 60, 14 * 60, 16 * 60, 40 * 60])
            at += gap * SECOND * rng.choice([1, 1, 1, 10]) // 10 * 10
            if roll < 0.55:
                sender = (
                    "agent" if with_agent and rng.random() < 0.5 else rng.choice(["user", "bot"])
                )
                add("conversation.message", app, at, conversation_id=conv, sender=sender)
            elif roll < 0.65:
                add("conversation.transferred", app, at, conversation_id=conv, agent_id="agent-1")
                with_agent = True
            elif roll < 0.75:
                add("conversation.returned", app, at, conversation_id=conv)
                with_agent = False
            elif roll < 0.8:
                add("conversation.ended", app, at, conversation_id=conv)
            else:
                add("conversation.message", app, at, conversation_id=conv, sender="user")
    for number in range(rng.randrange(3, 12)):
        add(
            "alert.delivered",
            rng.choice(apps),
            now - rng.randrange(span),
            alert_id=f"a{number}",
            **({"developer": True} if rng.random() < 0.2 else {}),
        )
    for agent in ("agent-1", "agent-2", "agent-3"):
        app = rng.choice(apps)
        at = now - rng.randrange(span)
        for _ in range(rng.randrange(1, 4)):
            add("agent.seat_assigned", app, at, agent_id=agent)
            at += rng.randrange(30 * MINUTE, 2 * 24 * 60 * MINUTE)
            if rng.random() < 0.7:
                add("agent.seat_released", app, at, agent_id=agent)
                at += rng.randrange(MINUTE, 24 * 60 * MINUTE)
    return events


def shuffled_batches(
    rng: random.Random, events: list[dict[str, Any]]
) -> list[list[dict[str, Any]]]:
    """The events in random order and batch sizes, some of them sent twice."""
    sent = events + rng.sample(events, k=len(events) // 4)
    rng.shuffle(sent)
    batches: list[list[dict[str, Any]]] = []
    while sent:
        size = rng.randint(1, 40)
        batches.append(sent[:size])
        sent = sent[size:]
    return batches


@dataclass(frozen=True, slots=True)
class ExpectedSession:
    type: str
    app_id: str
    channel: str | None
    conversation_id: str | None
    conversation_session_start: Micros | None
    conversation_session_end: Micros | None
    start: Micros
    end: Micros


KINDS = {
    "conversation.started": EventKind.STARTED,
    "conversation.message": EventKind.MESSAGE,
    "conversation.transferred": EventKind.TRANSFERRED,
    "conversation.returned": EventKind.RETURNED,
    "conversation.ended": EventKind.ENDED,
}


def _time(event: dict[str, Any]) -> Micros:
    return to_micros(datetime.fromisoformat(event["time"]).astimezone(UTC))


def expected_sessions(events: list[dict[str, Any]], *, now: Micros) -> list[ExpectedSession]:
    """Every completed billing session the events make, by the pure rules."""
    unique = {(e["source"], e["id"]): e for e in reversed(events)}  # first one wins
    conversations: dict[tuple[str, str], list[ConversationEvent]] = defaultdict(list)
    result: list[ExpectedSession] = []
    for e in unique.values():
        data = e["data"]
        if e["type"] in KINDS:
            conversations[(e["subject"], data["conversation_id"])].append(
                ConversationEvent(
                    time=_time(e),
                    kind=KINDS[e["type"]],
                    event_id=e["id"],
                    source=e["source"],
                    sender=data.get("sender"),
                    channel=data.get("channel"),
                    developer=data.get("developer", False),
                )
            )
        elif e["type"] == "alert.delivered" and not data.get("developer", False):
            t = _time(e)
            result.append(ExpectedSession("alert", e["subject"], None, None, None, None, t, t))
    for (app, conv), history in conversations.items():
        timeout = APP_TIMEOUTS[app] * MINUTE
        for s in sessionize(history, idle_timeout=timeout, now=now):
            if not s.completed:
                continue
            for kind, blocks in (("usage", s.usage_blocks), ("voice", s.voice_blocks)):
                for block in blocks:
                    result.append(
                        ExpectedSession(
                            kind, app, s.channel, conv, s.start, s.end, block.start, block.end
                        )
                    )
    return result


def expected_seats(events: list[dict[str, Any]]) -> dict[tuple[str, str], list[SeatInterval]]:
    unique = {(e["source"], e["id"]): e for e in reversed(events)}
    histories: dict[tuple[str, str], list[SeatEvent]] = defaultdict(list)
    for e in unique.values():
        if e["type"] in ("agent.seat_assigned", "agent.seat_released"):
            kind = (
                SeatEventKind.ASSIGNED if e["type"].endswith("assigned") else SeatEventKind.RELEASED
            )
            histories[(e["subject"], e["data"]["agent_id"])].append(
                SeatEvent(time=_time(e), kind=kind, event_id=e["id"], source=e["source"])
            )
    return {key: seat_intervals(history) for key, history in histories.items()}


def expected_series(
    sessions: list[ExpectedSession], span: Window, *, app_id: str | None
) -> list[Counter[str]]:
    """Per bucket: usage, alert and voice counts of the sessions that start in it."""
    series: list[Counter[str]] = [Counter() for _ in span.buckets]
    for s in sessions:
        if app_id is not None and s.app_id != app_id:
            continue
        for index, bucket in enumerate(span.buckets):
            if bucket.start <= s.start < bucket.end:
                series[index][s.type] += 1
                break
    return series
