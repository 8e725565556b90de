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

from hypothesis import Phase
from hypothesis import strategies as st

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


# --- the same histories as Hypothesis strategies -------------------------------------
#
# Drawn by Hypothesis rather than from a seed, a failing history shrinks: to fewer
# conversations, alerts and seats, fewer and simpler steps, fewer batches. Each event draws
# the batches it is sent in with its content, so that removing an event while shrinking
# leaves how every other event arrives as it was.

ON_A_DATABASE = (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink)
"""The phases of a property that meters its histories on a real database: without the
explain phase, which would run the shrunk example a hundred times more (minutes) only to
comment on which of its parts may vary."""

BATCHES = 6
"""A drawn history arrives in this many batches at most."""
SOURCES = st.sampled_from(["runtime-a", "runtime-b"])
GAPS = st.sampled_from([0, 1, 5, 30, 60, 4 * 60, 9 * 60, 14 * 60, 16 * 60, 40 * 60])
"""Seconds between two steps of a conversation: around the apps' idle timeouts."""
STEPS = st.sampled_from(
    ["message"] * 11 + ["transferred"] * 2 + ["returned"] * 2 + ["ended"] + ["user"] * 4
)
"""A conversation's next step, as often as :func:`random_history` takes it."""


def one_in(n: int) -> st.SearchStrategy[bool]:
    """True once in ``n`` draws; shrinks to False."""
    return st.integers(1, n).map(lambda drawn: drawn == n)


Drawn = tuple[str, str, Micros, str, dict[str, Any], tuple[int, ...]]
"""An event before it has an id: ``(type, app, time, source, data, batches)``; ``batches``
holds the batch it is sent in, and a second one when it is sent again."""


def _drawn(draw: st.DrawFn, kind: str, app: str, at: Micros, data: dict[str, Any]) -> Drawn:
    """The event with its source and the batches it is sent in (shrinks to the first)."""
    source = draw(SOURCES)
    sent: tuple[int, ...] = (draw(st.integers(0, BATCHES - 1)),)
    if draw(one_in(4)):  # a replay: the runtime sends it again, in the same batch or another
        sent += (draw(st.integers(0, BATCHES - 1)),)
    return kind, app, at, source, data, sent


@st.composite
def _conversation(draw: st.DrawFn, app: str, now: Micros, span: Micros) -> list[Drawn]:
    """One conversation (``conversation_id`` left for :func:`sent_histories` to number)."""
    at = now - span + draw(st.integers(1, span))  # shrinks to the oldest
    # Whole seconds or exact microseconds: the rules are exact either way.
    at -= 0 if draw(one_in(3)) else at % SECOND
    voice = app == "voice-bot" or draw(one_in(10))
    channel = "voice" if voice else draw(st.sampled_from(["chat", None]))
    extra: dict[str, Any] = {"channel": channel} if channel else {}
    if draw(one_in(12)):
        extra["developer"] = True
    events = [_drawn(draw, "conversation.started", app, at, extra)]
    with_agent = False
    for step in draw(st.lists(STEPS, max_size=13)):
        at += draw(GAPS) * SECOND * (10 if draw(one_in(4)) else 1)
        data: dict[str, Any] = {}
        if step == "message":
            senders = ["user", "bot", "agent", "agent"] if with_agent else ["user", "bot"]
            data = {"sender": draw(st.sampled_from(senders))}
        elif step == "user":
            step, data = "message", {"sender": "user"}
        elif step == "transferred":
            data, with_agent = {"agent_id": "agent-1"}, True
        elif step == "returned":
            with_agent = False
        events.append(_drawn(draw, f"conversation.{step}", app, at, data))
    return events


@st.composite
def _alert(draw: st.DrawFn, app: str, now: Micros, span: Micros) -> list[Drawn]:
    """One delivered alert (``alert_id`` left for :func:`sent_histories` to number)."""
    at = now - span + draw(st.integers(1, span))  # shrinks to the oldest
    data = {"developer": True} if draw(one_in(5)) else {}
    return [_drawn(draw, "alert.delivered", app, at, data)]


@st.composite
def _seat(draw: st.DrawFn, now: Micros, span: Micros) -> list[Drawn]:
    """One agent's seat, assigned and released in turn (``agent_id`` left to number)."""
    app = draw(st.sampled_from(list(APP_TIMEOUTS)))
    at = now - span + draw(st.integers(1, span))  # shrinks to the oldest
    events: list[Drawn] = []
    for _ in range(draw(st.integers(1, 3))):
        events.append(_drawn(draw, "agent.seat_assigned", app, at, {}))
        at += draw(st.integers(30 * MINUTE, 2 * 24 * 60 * MINUTE - 1))
        if draw(one_in(3)):
            continue  # still assigned: the next assignment changes nothing
        events.append(_drawn(draw, "agent.seat_released", app, at, {}))
        at += draw(st.integers(MINUTE, 24 * 60 * MINUTE - 1))
    return events


def _named(groups: list[list[Drawn]], field: str, name: str, *, first: int = 0) -> list[Drawn]:
    """Each group's events with ``field`` set to the group's name, numbered from ``first``."""
    return [
        (kind, app, at, source, {field: name.format(number), **data}, sent)
        for number, group in enumerate(groups, start=first)
        for kind, app, at, source, data, sent in group
    ]


@st.composite
def sent_histories(
    draw: st.DrawFn, *, now: Micros, span: Micros, per_app: int = 3, agents: int = 3
) -> list[list[dict[str, Any]]]:
    """Like :func:`shuffled_batches` of a :func:`random_history`: conversations and alerts
    of each app of APP_TIMEOUTS (up to ``per_app`` of each) and agents' seats, all at or
    before ``now``, in up to :data:`BATCHES` batches, some events late and some sent twice.
    Within a batch, events keep the order they were drawn in. :func:`events_of` gives the
    history itself.

    About 20 events on average rather than 200: a property on a real database runs more of
    them in the same time, and a failing one shrinks in seconds rather than many minutes
    (each attempt meters its history again)."""
    talks: list[list[Drawn]] = []
    alerted: list[list[Drawn]] = []
    for app in APP_TIMEOUTS:
        talks += draw(st.lists(_conversation(app, now, span), max_size=per_app))
        alerted += draw(st.lists(_alert(app, now, span), max_size=per_app))
    seats = draw(st.lists(_seat(now, span), max_size=agents))
    drawn = [
        *_named(talks, "conversation_id", "conv-{}"),
        *_named(alerted, "alert_id", "a{}"),
        *_named(seats, "agent_id", "agent-{}", first=1),
    ]
    events = [
        (
            {
                "specversion": "1.0",
                "id": f"e{index}",
                "source": source,
                "type": kind,
                "time": _iso(at),
                "subject": app,
                "data": data,
            },
            sent,
        )
        for index, (kind, app, at, source, data, sent) in enumerate(
            event for event in drawn if event[2] <= now
        )
    ]
    batches = [
        [event for event, sent in events for _ in range(sent.count(batch))]
        for batch in range(BATCHES)
    ]
    return [batch for batch in batches if batch]


def events_of(batches: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every event sent, once."""
    return list({(e["source"], e["id"]): e for batch in batches for e in batch}.values())


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
