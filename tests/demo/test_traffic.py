"""The demo traffic generator: deterministic, valid, and shaped like real traffic."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson
import pytest

from botbill.demo.traffic import DemoApp, demo_apps, generate, write_jsonl
from botbill.events.schemas import EVENT_TYPES, event_list_adapter
from botbill.kit.instants import DAY, MINUTE, Micros, to_micros
from botbill.kit.timezones import zone
from tests.factories import T0

NOW = to_micros(T0)
DAYS = 21  # three full weeks: every weekday and hour is sampled several times
APPS = {app.id: app for app in demo_apps()}
KOLKATA = zone("Asia/Kolkata")


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return list(generate(apps=list(APPS.values()), now=NOW, days=DAYS, scale=0.5))


def at(event: dict[str, Any]) -> Micros:
    return to_micros(datetime.fromisoformat(event["time"]))


def local(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["time"]).astimezone(KOLKATA)


def conversations(events: list[dict[str, Any]]) -> Iterator[tuple[DemoApp, list[dict[str, Any]]]]:
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        if event["type"].startswith("conversation."):
            grouped[(event["subject"], event["data"]["conversation_id"])].append(event)
    for (app_id, _), history in grouped.items():
        yield APPS[app_id], history


def test_the_same_seed_gives_the_same_events() -> None:
    def run(seed: int) -> list[dict[str, Any]]:
        return list(generate(apps=demo_apps(), now=NOW, days=3, seed=seed, scale=0.3))

    first = run(7)
    assert first == run(7)
    assert first != run(8)


def test_every_event_is_a_valid_cloudevent_within_the_window(
    events: list[dict[str, Any]],
) -> None:
    parsed = event_list_adapter.validate_json(orjson.dumps(events))
    assert len(parsed) == len(events)
    assert {event["specversion"] for event in events} == {"1.0"}
    assert all(event["time"].endswith("Z") for event in events)
    assert all(NOW - DAYS * DAY <= at(event) <= NOW for event in events)
    assert {event["subject"] for event in events} == set(APPS)
    identities = [(event["source"], event["id"]) for event in events]
    assert len(set(identities)) == len(identities)


def test_events_come_in_time_order(events: list[dict[str, Any]]) -> None:
    times = [at(event) for event in events]
    assert times == sorted(times)


def test_all_eight_event_types_occur(events: list[dict[str, Any]]) -> None:
    assert set(Counter(event["type"] for event in events)) == set(EVENT_TYPES)


def test_weekdays_are_busier_than_weekends(events: list[dict[str, Any]]) -> None:
    per_day: Counter[datetime] = Counter()
    for event in events:
        if event["type"] == "conversation.started":
            day = local(event).replace(hour=0, minute=0, second=0, microsecond=0)
            per_day[day] += 1
    whole_days = [day for day in per_day if to_micros(day) >= NOW - DAYS * DAY + DAY]
    whole_days = [day for day in whole_days if to_micros(day) + DAY <= NOW]
    weekday = [per_day[day] for day in whole_days if day.weekday() < 5]
    weekend = [per_day[day] for day in whole_days if day.weekday() >= 5]
    assert weekend
    ratio = (sum(weekend) / len(weekend)) / (sum(weekday) / len(weekday))
    assert 0.25 < ratio < 0.6


def test_working_hours_are_busier_than_nights(events: list[dict[str, Any]]) -> None:
    per_hour = Counter(
        local(event).hour for event in events if event["type"] == "conversation.started"
    )
    daytime = sum(per_hour[hour] for hour in range(9, 18)) / 9
    night = sum(per_hour[hour] for hour in range(0, 6)) / 6
    assert daytime > 5 * night > 0


def test_conversations_take_every_shape(events: list[dict[str, Any]]) -> None:
    shapes: Counter[str] = Counter()
    for app, history in conversations(events):
        kinds = [event["type"] for event in history]
        senders = [event["data"].get("sender") for event in history]
        times = [at(event) for event in history]
        gaps = [later - earlier for earlier, later in pairwise(times)]
        span = times[-1] - times[0]
        timeout = app.idle_timeout_minutes * MINUTE
        shapes["developer"] += any(event["data"].get("developer") for event in history)
        shapes["voice"] += any(event["data"].get("channel") == "voice" for event in history)
        shapes["transfer and return"] += "conversation.returned" in kinds
        shapes["straight to an agent"] += (
            "conversation.transferred" in kinds
            and "user" not in senders[: kinds.index("conversation.transferred")]
        )
        shapes["bot only"] += "user" not in senders
        shapes["ended"] += kinds[-1] == "conversation.ended"
        shapes["just stops"] += kinds[-1] != "conversation.ended"
        shapes["long silence"] += any(gap > timeout for gap in gaps)
        shapes["pause"] += any(timeout / 2 < gap <= timeout for gap in gaps)
        shapes["seconds"] += span < MINUTE
        shapes["half an hour"] += span > 30 * MINUTE
        assert kinds[0] == "conversation.started"
        assert times == sorted(times)
    assert len(shapes) == 11
    assert all(count > 0 for count in shapes.values()), shapes
    assert shapes["ended"] > shapes["just stops"] > 0


def test_alerts_go_out_on_a_schedule_from_two_apps(events: list[dict[str, Any]]) -> None:
    alerts = [event for event in events if event["type"] == "alert.delivered"]
    assert {event["subject"] for event in alerts} == {"sales-assistant", "order-tracker"}
    broadcast_hours = {local(event).hour for event in alerts if not event["data"].get("developer")}
    assert broadcast_hours == {0, 8, 16}
    assert any(event["data"].get("developer") for event in alerts)


def test_seats_are_assigned_and_released_in_turn(events: list[dict[str, Any]]) -> None:
    seats: dict[tuple[str, str], list[str]] = defaultdict(list)
    for event in events:
        if event["type"].startswith("agent."):
            seats[(event["subject"], event["data"]["agent_id"])].append(event["type"])
    assert {app for app, _ in seats} == {app.id for app in APPS.values() if app.has_agents}
    for history in seats.values():
        assert history[0] == "agent.seat_assigned"
        assert all(a != b for a, b in pairwise(history))


def test_hand_offs_go_to_a_seated_agent(events: list[dict[str, Any]]) -> None:
    seated: set[tuple[str, str]] = set()
    handed = 0
    for event in events:
        key = (event["subject"], event["data"].get("agent_id", ""))
        if event["type"] == "agent.seat_assigned":
            seated.add(key)
        elif event["type"] == "agent.seat_released":
            seated.discard(key)
        elif event["type"] == "conversation.transferred":
            handed += 1
            assert key in seated
    assert handed > 0


def test_the_default_demo_has_100k_to_200k_events() -> None:
    count = sum(1 for _ in generate(apps=demo_apps(), now=NOW, days=60))
    assert 100_000 <= count <= 200_000


def test_write_jsonl_writes_one_event_per_line(tmp_path: Path) -> None:
    events = list(generate(apps=demo_apps()[:2], now=NOW, days=1, scale=0.2))
    path = tmp_path / "events.jsonl"
    assert write_jsonl(iter(events), path) == len(events) > 0
    assert [orjson.loads(line) for line in path.read_bytes().splitlines()] == events
