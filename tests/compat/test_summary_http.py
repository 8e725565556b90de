"""POST …/billingsessionsummary then GET …/status?type=summary: the platform's samples,
the job record and result fields, the counters against /v1/usage, and the refusals."""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest

from botbill.kit.instants import DAY, from_micros, to_micros
from tests.compat.factories import (
    SAMPLE_STREAM,
    SUMMARY_BAC_SAMPLE,
    SUMMARY_BUILDER_SAMPLE,
    errors,
    make_client,
    platform,
    summary_jobs,
    token,
)
from tests.conftest import Server
from tests.factories import T0, auth, event, make_app, make_workspace, minutes, send_events
from tests.histories import APP_TIMEOUTS, expected_sessions, random_history, shuffled_batches
from tests.metering.factories import expected_conversations

ISO_MILLIS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
ACCOUNT = "/api/public/bots/billingsessionsummary"
BOT = "/api/public/bot/{}/billingsessionsummary"
WEEK = {
    "fromDate": "2026-11-20",
    "toDate": "2026-11-26",
    "unitType": ["session", "request", "alert", "proactive", "conversations"],
    "groupByBot": "no",
    "groupByPeriod": "date_day",
}
SPELLED_BY_APP = {name: value for name, value in WEEK.items() if name != "groupByBot"} | {
    "groupByApp": "yes"
}
COUNTERS = [
    "requests",
    "sessions",
    "alert_notifications",
    "proactive_notifications",
    "conversations",
]


@pytest.fixture
def client(server: Server, http: httpx.Client) -> tuple[str, dict[str, str]]:
    """Two bots that talked on the tests' day, and the headers of a client's script.

    support-bot: one 20-minute chat (2 usage sessions, 3 user messages to the bot, one
    more to an agent), one alert; the sample stream: a 1-minute chat the day before
    (1 usage session, 1 request), and a developer's conversation (free)."""
    _, key = make_workspace(server.engine)
    make_app(http, key=key, app_id="support-bot")
    make_app(http, key=key, app_id=SAMPLE_STREAM)
    start = T0 - timedelta(hours=5)
    steps = [(1, "user"), (5, "bot"), (9, "user"), (12, "user"), (16, "bot"), (20, "bot")]
    events = [
        event("conversation.started", at=start, conversation_id="c1"),
        *(
            event("conversation.message", at=start + minutes(m), conversation_id="c1", sender=who)
            for m, who in steps
        ),
        event("conversation.transferred", at=start + minutes(20), conversation_id="c1"),
        event("conversation.message", at=start + minutes(21), conversation_id="c1", sender="user"),
        event("conversation.ended", at=start + minutes(22), conversation_id="c1"),
        event("alert.delivered", at=start + minutes(40), alert_id="a1"),
    ]
    yesterday = T0 - timedelta(days=1)
    for conversation, developer in (("s1", False), ("dev", True)):
        events += [
            event(
                "conversation.started",
                at=yesterday,
                app=SAMPLE_STREAM,
                conversation_id=conversation,
                developer=developer,
            ),
            event(
                "conversation.message",
                at=yesterday + minutes(1),
                app=SAMPLE_STREAM,
                conversation_id=conversation,
                sender="user",
            ),
            event(
                "conversation.ended",
                at=yesterday + minutes(1),
                app=SAMPLE_STREAM,
                conversation_id=conversation,
            ),
        ]
    assert send_events(http, key=key, body=events).status_code == 200
    client_id, secret = make_client(http, key=key)
    return key, platform(token(client_id, secret))


def ask(http: httpx.Client, headers: dict[str, str], path: str, body: Any) -> dict[str, Any]:
    """POST a summary request and GET its result, checking the record's and the result's
    documented fields."""
    posted = http.post(path, content=orjson.dumps(body), headers=headers)
    assert posted.status_code == 200, posted.text
    record = posted.json()
    assert list(record) == [
        "reportId",
        "status",
        "percentageComplete",
        "orgId",
        "createdBy",
        "jobType",
        "action",
        "statusLogs",
        "_id",
        "lMod",
        "createdOn",
        "__v",
    ]
    assert record["status"] == "IN_PROGRESS"
    assert record["percentageComplete"] == 0
    assert (record["jobType"], record["action"], record["statusLogs"], record["__v"]) == (
        "BILLINGSESSIONS_API",
        "QUERY",
        [],
        0,
    )
    assert record["reportId"].isdigit()
    assert re.fullmatch(r"ds-[0-9a-f-]{36}", record["_id"])
    assert record["orgId"].startswith("ws_")
    assert record["createdBy"].startswith("cs-")
    assert ISO_MILLIS.fullmatch(record["lMod"])
    assert record["lMod"].endswith(".000Z")
    assert record["createdOn"] == "2026-11-26T12:00:00.000Z"

    status = http.get(f"{path}/status", params={"type": "summary"}, headers=headers)
    assert status.status_code == 200, status.text
    result = status.json()
    assert list(result) == ["_id", "status", "__v", "lastModifiedBy", "modifiedOn", "response"]
    assert (result["_id"], result["status"], result["__v"]) == (record["_id"], "success", 0)
    assert result["lastModifiedBy"] == record["createdBy"]
    assert ISO_MILLIS.fullmatch(result["modifiedOn"])
    response = result["response"]
    assert list(response) == ["data", "averageSessions"]
    assert isinstance(response["averageSessions"], int)
    for entry in response["data"]:
        assert list(entry) == ["bot", "val"]
        for period in entry["val"]:
            assert list(period) == ["date", "val"]
            assert ISO_MILLIS.fullmatch(period["date"])
            assert list(period["val"]) == COUNTERS
            assert all(isinstance(n, int) for n in period["val"].values())
    answer: dict[str, Any] = response
    return answer


def test_the_documented_samples(http: httpx.Client, client: tuple[str, dict[str, str]]) -> None:
    _, headers = client
    builder = ask(http, headers, BOT.format("support-bot"), SUMMARY_BUILDER_SAMPLE)
    assert builder == {"data": [{"bot": "ALL", "val": []}], "averageSessions": 0}  # 2023
    assert ask(http, headers, ACCOUNT, SUMMARY_BAC_SAMPLE) == {"data": [], "averageSessions": 0}
    qa = {
        "fromDate": "2022-03-02T07:18:54.089Z",
        "toDate": "2022-03-05T10:30:25.931Z",
        "unitType": ["session", "request", "alert", "proactive"],
        "groupByBot": "yes",
        "streamIds": [SAMPLE_STREAM],
        "groupByPeriod": "date_day",
    }
    assert ask(http, headers, "/api/public/billingsessionsummary", qa)["data"] == []


def day(date: str, **counts: int) -> dict[str, Any]:
    return {"date": f"{date}T00:00:00.000Z", "val": dict.fromkeys(COUNTERS, 0) | counts}


def test_the_counters_by_day_match_the_usage(
    http: httpx.Client, client: tuple[str, dict[str, str]]
) -> None:
    key, headers = client
    answer = ask(http, headers, ACCOUNT, WEEK)
    assert answer == {
        "data": [
            {
                "bot": "ALL",
                "val": [
                    day("2026-11-25", sessions=1, requests=1, conversations=1),
                    day(
                        "2026-11-26", sessions=2, requests=3, conversations=1, alert_notifications=1
                    ),
                ],
            }
        ],
        "averageSessions": 5,  # (3 + 7) // 2
    }
    usage = http.get(
        "/v1/usage",
        params={"range": "custom", "from": "2026-11-20", "to": "2026-11-26"},
        headers=auth(key),
    ).json()["totals"]
    listed = answer["data"][0]["val"]
    assert sum(p["val"]["sessions"] for p in listed) == usage["usage_sessions"]
    assert sum(p["val"]["alert_notifications"] for p in listed) == usage["alert_sessions"]


def test_by_bot_by_hour_by_month_and_some_units(
    http: httpx.Client, client: tuple[str, dict[str, str]]
) -> None:
    _, headers = client
    by_bot = ask(http, headers, ACCOUNT, {**WEEK, "groupByBot": "yes"})
    assert [entry["bot"] for entry in by_bot["data"]] == [SAMPLE_STREAM, "support-bot"]
    narrowed = ask(http, headers, ACCOUNT, {**SPELLED_BY_APP, "streamIds": ["support-bot"]})
    assert narrowed["data"] == [by_bot["data"][1]]

    hourly = ask(
        http, headers, BOT.format("support-bot"), {**WEEK, "groupByPeriod": "date_day_hour"}
    )
    assert [p["date"] for p in hourly["data"][0]["val"]] == ["2026-11-26T07:00:00.000Z"]
    assert hourly["data"][0]["val"][0]["val"]["alert_notifications"] == 1

    monthly = ask(
        http, headers, ACCOUNT, {**WEEK, "groupByPeriod": "date_month", "unitType": "session"}
    )
    assert monthly == {
        "data": [{"bot": "ALL", "val": [day("2026-11-01", sessions=3)]}],
        "averageSessions": 3,
    }


def test_status_answers_the_callers_latest_job_at_that_address(
    server: Server, http: httpx.Client, client: tuple[str, dict[str, str]]
) -> None:
    key, headers = client
    first = http.post(ACCOUNT, json=WEEK, headers=headers).json()
    second = http.post(ACCOUNT, json={**WEEK, "unitType": "alert"}, headers=headers).json()
    assert second["reportId"] != first["reportId"]
    status = http.get(f"{ACCOUNT}/status?type=summary", headers=headers).json()
    assert status["_id"] == second["_id"]
    assert "no billing session summary" in errors(
        http.get(BOT.format("support-bot") + "/status?type=summary", headers=headers), 404
    )
    other_id, other_secret = make_client(http, key=key, name="other")
    other = platform(token(other_id, other_secret))
    errors(http.get(f"{ACCOUNT}/status?type=summary", headers=other), 404)
    assert "type" in errors(http.get(f"{ACCOUNT}/status?type=details", headers=headers), 400)


def test_refusals_create_no_job(
    server: Server, http: httpx.Client, client: tuple[str, dict[str, str]]
) -> None:
    _, headers = client
    _, other_key = make_workspace(server.engine, name="Other")
    make_app(http, key=other_key, app_id="their-bot")
    bad = [
        ({**WEEK, "fromDate": "2026-13-01"}, "fromDate", 400),
        ({**WEEK, "fromDate": "2026-11-27"}, "fromDate", 400),
        ({**WEEK, "fromDate": "2026-08-27"}, "90 days", 400),
        ({**WEEK, "unitType": ["session", "minutes"]}, "unitType", 400),
        ({**WEEK, "groupByPeriod": "date_week"}, "groupByPeriod", 400),
        ({**WEEK, "streamIds": ["their-bot"]}, "their-bot", 404),
    ]
    for body, named, status in bad:
        assert named in errors(http.post(ACCOUNT, json=body, headers=headers), status)
    assert "their-bot" in errors(
        http.post(BOT.format("their-bot"), json=WEEK, headers=headers), 404
    )
    expired = platform(token("cs-none", "x" * 43))
    errors(http.post(ACCOUNT, json=WEEK, headers=expired), 401)
    assert summary_jobs(server) == 0
    errors(http.get(f"{ACCOUNT}/status?type=summary", headers=headers), 404)


def test_a_random_history_by_day_matches_the_rules(server: Server, http: httpx.Client) -> None:
    """Every counter of every day, against the pure rules applied to the whole history."""
    _, key = make_workspace(server.engine)
    for app, timeout in APP_TIMEOUTS.items():
        make_app(http, key=key, app_id=app, idle_timeout_minutes=timeout)
    rng = random.Random(4)
    now = to_micros(T0)
    history = random_history(rng, now=now, span=20 * DAY, conversations=60)
    for batch in shuffled_batches(rng, history):
        assert send_events(http, key=key, body=batch).status_code == 200
    headers = platform(token(*make_client(http, key=key)))
    body = {**WEEK, "fromDate": "2026-11-01"}

    expected: dict[int, Counter[str]] = defaultdict(Counter)
    for s in expected_sessions(history, now=now):
        if s.type != "voice":
            counter = "sessions" if s.type == "usage" else "alert_notifications"
            expected[s.start - s.start % DAY][counter] += 1
    for _app, start, requests in expected_conversations(history, now=now):
        expected[start - start % DAY].update(conversations=1, requests=requests)
    assert len(expected) >= 10  # most of the 20 days saw traffic
    listed = ask(http, headers, ACCOUNT, body)["data"][0]["val"]
    assert listed == [
        {
            "date": f"{from_micros(day).date().isoformat()}T00:00:00.000Z",
            "val": {counter: expected[day][counter] for counter in COUNTERS},
        }
        for day in sorted(expected)
    ]
