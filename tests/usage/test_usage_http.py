"""GET /v1/usage, /v1/usage.csv and /v1/billing-sessions over real HTTP, against the rules.

A random history goes in through POST /v1/events in shuffled batches with duplicates;
every answer is then checked against the pure rules applied to the whole history.
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from botbill.kit.db import unit_of_work
from botbill.kit.instants import DAY, to_micros
from botbill.metering.models import PendingMetering
from botbill.metering.seats import agent_count, agent_counts
from botbill.usage.buckets import Granularity, RangeKind, local_iso, window
from tests.conftest import Server
from tests.factories import T0, auth, make_app, make_workspace
from tests.histories import (
    APP_TIMEOUTS,
    expected_seats,
    expected_series,
    expected_sessions,
    random_history,
    shuffled_batches,
)

NOW = to_micros(T0)

QUERIES: list[dict[str, Any]] = [
    {"range": "24h"},
    {"range": "7d"},
    {"range": "30d"},
    {"range": "7d", "tz": "Asia/Kolkata"},
    {"range": "30d", "tz": "Asia/Kathmandu", "app_id": "chat-bot"},
    {"range": "24h", "tz": "America/New_York", "app_id": "voice-bot"},
    {"range": "7d", "granularity": "hour", "app_id": "slow-bot"},
    {"range": "custom", "from": "2026-10-01", "to": "2026-11-26", "granularity": "week"},
    {
        "range": "custom",
        "from": "2026-09-01",
        "to": "2026-11-30",
        "granularity": "month",
        "tz": "Europe/Berlin",
    },
    {
        "range": "custom",
        "from": "2026-11-20",
        "to": "2026-11-26",
        "granularity": "hour",
        "tz": "Asia/Kolkata",
    },
]


@pytest.fixture
def history(server: Server, http: httpx.Client) -> tuple[str, list[dict[str, Any]]]:
    _, key = make_workspace(server.engine, timezone="UTC")
    for app, timeout in APP_TIMEOUTS.items():
        make_app(http, key=key, app_id=app, idle_timeout_minutes=timeout)
    rng = random.Random(20261126)
    events = random_history(rng, now=NOW, span=34 * DAY, conversations=150)
    for batch in shuffled_batches(rng, events):
        response = http.post(
            "/v1/events",
            content=orjson.dumps(batch),
            headers={**auth(key), "content-type": "application/cloudevents-batch+json"},
        )
        assert response.status_code == 200, response.text
    return key, events


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "-".join(str(v) for v in q.values()))
def test_usage_matches_the_rules(
    http: httpx.Client, history: tuple[str, list[dict[str, Any]]], query: dict[str, Any]
) -> None:
    key, events = history
    response = http.get("/v1/usage", params=query, headers=auth(key))
    assert response.status_code == 200, response.text
    body = response.json()

    tz = query.get("tz", "UTC")
    span = window(
        range=RangeKind(query["range"]),
        tz=tz,
        now=NOW,
        granularity=Granularity(query["granularity"]) if "granularity" in query else None,
        from_date=date.fromisoformat(query["from"]) if "from" in query else None,
        to_date=date.fromisoformat(query["to"]) if "to" in query else None,
    )
    app_id = query.get("app_id")
    sessions = expected_sessions(events, now=NOW)
    series = expected_series(sessions, span, app_id=app_id)
    seats = {k: v for k, v in expected_seats(events).items() if app_id is None or k[0] == app_id}
    agents = agent_counts(seats, [(b.start, b.end) for b in span.buckets], now=NOW)

    assert body["app_id"] == app_id
    assert body["tz"] == tz
    assert body["range"] == query["range"]
    assert body["granularity"] == span.granularity.value
    assert body["from"] == local_iso(span.start, tz)
    assert body["to"] == local_iso(span.end, tz)
    assert len(body["series"]) == len(span.buckets)
    for point, bucket, counts, agent_total in zip(
        body["series"], span.buckets, series, agents, strict=True
    ):
        assert point == {
            "start": local_iso(bucket.start, tz),
            "end": local_iso(bucket.end, tz),
            "billing_sessions": counts["usage"] + counts["alert"],
            "usage_sessions": counts["usage"],
            "alert_sessions": counts["alert"],
            "voice_sessions": counts["voice"],
            "agents": agent_total,
        }
    totals = sum(series, Counter())
    assert body["totals"] == {
        "billing_sessions": totals["usage"] + totals["alert"],
        "usage_sessions": totals["usage"],
        "alert_sessions": totals["alert"],
        "voice_sessions": totals["voice"],
        "agents": agent_count(seats, span.start, span.end, now=NOW),
    }


def test_the_history_exercises_every_kind_of_session(
    history: tuple[str, list[dict[str, Any]]],
) -> None:
    _, events = history
    kinds = Counter(s.type for s in expected_sessions(events, now=NOW))
    assert kinds["usage"] > 50
    assert kinds["voice"] > 5
    assert kinds["alert"] > 0


def test_csv_is_the_same_series(
    http: httpx.Client, history: tuple[str, list[dict[str, Any]]]
) -> None:
    key, _ = history
    params = {"range": "30d", "tz": "Asia/Kolkata"}
    body = http.get("/v1/usage", params=params, headers=auth(key)).json()
    response = http.get("/v1/usage.csv", params=params, headers=auth(key))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        "start",
        "end",
        "billing_sessions",
        "usage_sessions",
        "alert_sessions",
        "voice_sessions",
        "agents",
    ]
    assert rows[1:] == [[str(point[column]) for column in rows[0]] for point in body["series"]]


def test_billing_sessions_list_matches_the_rules(
    http: httpx.Client, history: tuple[str, list[dict[str, Any]]]
) -> None:
    key, events = history
    start, end = "2026-11-01T00:00:00Z", "2026-11-26T12:00:00Z"
    listed: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"from": start, "to": end, "limit": 37}
        if cursor:
            params["cursor"] = cursor
        page = http.get("/v1/billing-sessions", params=params, headers=auth(key)).json()
        listed.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    lo, hi = to_micros(T0.replace(day=1, hour=0)), NOW
    expected = [s for s in expected_sessions(events, now=NOW) if lo <= s.start < hi]

    def iso(value: int | None) -> str | None:
        from botbill.kit.instants import from_micros

        return None if value is None else from_micros(value).isoformat().replace("+00:00", "Z")

    want = Counter(
        (
            s.type,
            s.app_id,
            s.channel,
            s.conversation_id,
            iso(s.conversation_session_start),
            iso(s.conversation_session_end),
            iso(s.start),
            iso(s.end),
        )
        for s in expected
    )
    got = Counter(
        (
            i["type"],
            i["app_id"],
            i["channel"],
            i["conversation_id"],
            i["conversation_session_start"],
            i["conversation_session_end"],
            i["start"],
            i["end"],
        )
        for i in listed
    )
    assert got == want
    assert [i["start"] for i in listed] == sorted(i["start"] for i in listed)
    assert len({i["billing_session_id"] for i in listed}) == len(listed)

    voice = http.get(
        "/v1/billing-sessions",
        params={"from": start, "to": end, "type": "voice", "app_id": "voice-bot", "limit": 1000},
        headers=auth(key),
    ).json()
    assert voice["items"]
    assert all(i["type"] == "voice" and i["app_id"] == "voice-bot" for i in voice["items"])
    assert len(voice["items"]) == sum(
        1 for s in expected if s.type == "voice" and s.app_id == "voice-bot"
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "range"),
        ({"range": "90d"}, "range"),
        ({"range": "custom", "from": "2026-01-01"}, "to"),
        ({"range": "custom", "from": "2025-01-01", "to": "2026-01-05"}, "to"),
        ({"range": "custom", "from": "2026-11-10", "to": "2026-11-01"}, "to"),
        ({"range": "30d", "granularity": "hour"}, "granularity"),
        ({"range": "7d", "granularity": "minute"}, "granularity"),
        ({"range": "7d", "tz": "Mars/Olympus"}, "tz"),
        ({"range": "7d", "from": "2026-11-01"}, "from"),
    ],
)
def test_bad_usage_queries_are_clear_422s(
    http: httpx.Client, server: Server, params: dict[str, str], field: str
) -> None:
    _, key = make_workspace(server.engine)
    response = http.get("/v1/usage", params=params, headers=auth(key))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(error["loc"][-1] == field for error in problem["errors"]), problem


def test_usage_of_another_workspaces_app_is_404(http: httpx.Client, server: Server) -> None:
    _, mine = make_workspace(server.engine, name="Mine")
    _, theirs = make_workspace(server.engine, name="Theirs")
    make_app(http, key=theirs, app_id="secret-bot")
    for path in ("/v1/usage", "/v1/usage.csv"):
        response = http.get(
            path, params={"range": "7d", "app_id": "secret-bot"}, headers=auth(mine)
        )
        assert response.status_code == 404
    response = http.get(
        "/v1/billing-sessions",
        params={
            "from": "2026-11-01T00:00:00Z",
            "to": "2026-11-02T00:00:00Z",
            "app_id": "secret-bot",
        },
        headers=auth(mine),
    )
    assert response.status_code == 404


@pytest.mark.parametrize("app_id", ["no-such-bot", "chat-bot\x00", ""])
def test_usage_of_an_unknown_app_is_404(http: httpx.Client, server: Server, app_id: str) -> None:
    """Unknown ids, ids no app could have (a NUL) and the empty id: 404, not a 500."""
    _, key = make_workspace(server.engine)
    make_app(http, key=key, app_id="chat-bot")
    window = {"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"}
    for path, params in (
        ("/v1/usage", {"range": "7d"}),
        ("/v1/usage.csv", {"range": "24h"}),
        ("/v1/billing-sessions", window),
    ):
        response = http.get(path, params={**params, "app_id": app_id}, headers=auth(key))
        assert response.status_code == 404, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["detail"] == f"no app {app_id!r}"
    known = http.get("/v1/usage", params={"range": "7d", "app_id": "chat-bot"}, headers=auth(key))
    assert known.status_code == 200
    assert known.json()["app_id"] == "chat-bot"


def test_ingest_completes_what_it_closes_before_returning(
    http: httpx.Client, server: Server
) -> None:
    """When an ingest call returns, the usage API already shows what it completed."""
    _, key = make_workspace(server.engine)
    make_app(http, key=key, app_id="chat-bot")

    def ev(n: int, minute: int, kind: str, **data: Any) -> dict[str, Any]:
        return {
            "specversion": "1.0",
            "id": f"x{n}",
            "source": "rt",
            "type": kind,
            "subject": "chat-bot",
            "time": f"2026-11-26T11:{minute:02d}:00Z",
            "data": {"conversation_id": "c", **data},
        }

    http.post(
        "/v1/events", json=[ev(1, 50, "conversation.message", sender="user")], headers=auth(key)
    )
    before = http.get("/v1/usage", params={"range": "24h"}, headers=auth(key)).json()
    assert before["totals"]["usage_sessions"] == 0  # in progress
    http.post("/v1/events", json=[ev(2, 55, "conversation.ended")], headers=auth(key))
    after = http.get("/v1/usage", params={"range": "24h"}, headers=auth(key)).json()
    assert after["totals"]["usage_sessions"] == 1
    # Idle completion shows without waiting for the job: move the clock past the timeout.
    http.post(
        "/v1/events",
        json=[
            ev(3, 58, "conversation.message", sender="user")
            | {"data": {"conversation_id": "d", "sender": "user"}}
        ],
        headers=auth(key),
    )
    server.clock.advance(13 * 60 * 1_000_000)  # 12:13: exactly 15 minutes of silence
    later = http.get("/v1/usage", params={"range": "24h"}, headers=auth(key)).json()
    assert later["totals"]["usage_sessions"] == 1
    server.clock.advance(1)  # strictly more than the idle timeout
    latest = http.get("/v1/usage", params={"range": "24h"}, headers=auth(key)).json()
    assert latest["totals"]["usage_sessions"] == 2


def test_every_read_meters_what_ingest_left_pending(http: httpx.Client, server: Server) -> None:
    """Ingest only stores (the jobs are off here); usage, CSV, billing sessions and the
    plan list each meter the workspace's pending events before they answer."""
    _, key = make_workspace(server.engine)
    make_app(http, key=key, app_id="chat-bot", plan="standard")
    funds = {"amount": 25_000, "payment_method": "card", "token": "tok_ok"}
    assert http.post("/v1/apps/chat-bot/funds", json=funds, headers=auth(key)).status_code == 201

    def conversation(name: str) -> list[dict[str, Any]]:
        return [
            {
                "specversion": "1.0",
                "id": f"{name}-{n}",
                "source": "rt",
                "type": kind,
                "subject": "chat-bot",
                "time": f"2026-11-26T10:{10 + n:02d}:00Z",
                "data": {"conversation_id": name, **data},
            }
            for n, (kind, data) in enumerate(
                [("conversation.message", {"sender": "user"}), ("conversation.ended", {})]
            )
        ]

    def pending() -> int:
        with unit_of_work(server.engine, write=False) as session:
            return session.scalar(select(func.count()).select_from(PendingMetering)) or 0

    reads: list[Callable[[], httpx.Response]] = [
        lambda: http.get("/v1/usage", params={"range": "24h"}, headers=auth(key)),
        lambda: http.get("/v1/usage.csv", params={"range": "24h"}, headers=auth(key)),
        lambda: http.get(
            "/v1/billing-sessions",
            params={"from": "2026-11-26T00:00:00Z", "to": "2026-11-27T00:00:00Z"},
            headers=auth(key),
        ),
        lambda: http.get("/v1/subscriptions", headers=auth(key)),
    ]
    for number, read in enumerate(reads, start=1):
        response = http.post("/v1/events", json=conversation(f"c{number}"), headers=auth(key))
        assert response.status_code == 200
        assert pending() == 1
        assert read().status_code == 200
        assert pending() == 0
    usage = http.get("/v1/usage", params={"range": "24h"}, headers=auth(key)).json()
    assert usage["totals"]["usage_sessions"] == len(reads)
    [row] = http.get("/v1/subscriptions", headers=auth(key)).json()["items"]
    assert row["balance"]["amount"] == 25_000 - len(reads) * 20  # standard: 20 a session
