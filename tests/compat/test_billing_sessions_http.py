"""POST …/getBillingSessionsDetails: the platform's sample requests, its fields and
formats, the same sessions as /v1/billing-sessions, and every refusal in its shape."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from typing import Any

import httpx
import jwt
import orjson
import pytest

from botbill.kit.instants import DAY, to_micros
from tests.compat.factories import (
    SESSIONS_ACCOUNT_SAMPLE,
    SESSIONS_BOT_SAMPLE,
    errors,
    make_client,
    platform,
    token,
)
from tests.conftest import Server
from tests.factories import T0, auth, event, make_app, make_workspace, minutes, send_events
from tests.histories import APP_TIMEOUTS, random_history, shuffled_batches

PLATFORM_DATETIME = re.compile(
    r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])-\d{4} ([1-9]|1[0-2]):[0-5]\d:[0-5]\d (am|pm)"
)
BOT = "/api/public/bot/{}/getBillingSessionsDetails"
ACCOUNT_PATHS = [
    "/api/public/bots/getBillingSessionsDetails",
    "/api/public/getBillingSessionsDetails",
]
WEEK = {"fromDate": "2026-11-20", "toDate": "2026-11-26", "limit": 100, "skip": 0}
"""The documented sample body with its dates moved into the tests' week."""


def talk(http: httpx.Client, key: str) -> None:
    """A chat conversation of 20 minutes with a known user, a voice call, an alert, and a
    developer's conversation (free)."""
    start = T0 - timedelta(hours=5)
    events = [
        event(
            "conversation.started",
            at=start,
            conversation_id="c1",
            channel="chat",
            user_id="u-42",
            channel_user_id="web/8f2c",
        ),
        *(
            event("conversation.message", at=start + minutes(m), conversation_id="c1", sender=who)
            for m, who in ((1, "user"), (8, "bot"), (14, "user"), (20, "bot"))
        ),
        event("conversation.ended", at=start + minutes(20), conversation_id="c1"),
        event(
            "conversation.started", at=start + minutes(30), conversation_id="v1", channel="voice"
        ),
        event("conversation.message", at=start + minutes(31), conversation_id="v1", sender="user"),
        event("conversation.ended", at=start + minutes(32), conversation_id="v1"),
        event("alert.delivered", at=start + minutes(40), alert_id="a1"),
        event("conversation.started", at=start, conversation_id="dev", developer=True),
        event("conversation.message", at=start + minutes(2), conversation_id="dev", sender="user"),
        event("conversation.ended", at=start + minutes(3), conversation_id="dev"),
    ]
    assert send_events(http, key=key, body=events).status_code == 200


@pytest.fixture
def client(server: Server, http: httpx.Client) -> tuple[str, dict[str, str]]:
    """A workspace with one bot that talked, and the headers of its client's script."""
    _, key = make_workspace(server.engine)
    make_app(http, key=key, app_id="support-bot", plan="standard")
    talk(http, key)
    client_id, secret = make_client(http, key=key)
    return key, platform(token(client_id, secret))


def test_the_documented_samples_are_over_the_current_limit(
    http: httpx.Client, client: tuple[str, dict[str, str]]
) -> None:
    """The samples date from the six-month limit; today's three months refuse them."""
    _, headers = client
    bot = http.post(
        BOT.format("support-bot"), content=orjson.dumps(SESSIONS_BOT_SAMPLE), headers=headers
    )
    assert "toDate" in errors(bot, 400)
    account = http.post(
        ACCOUNT_PATHS[0], content=orjson.dumps(SESSIONS_ACCOUNT_SAMPLE), headers=headers
    )
    assert "92 days" in errors(account, 400)


def check_session(item: dict[str, Any]) -> None:
    """Every documented field, with its type and format."""
    assert list(item) == [
        "botId",
        "channel",
        "koreUserId",
        "channelUserId",
        "billingSessionType",
        "conversationSessionId",
        "conversationSessionStartDateTime",
        "conversationSessionEndDateTime",
        "billingSessionId",
        "billingSessionStartDateTime",
        "billingSessionEndDateTime",
    ]
    assert item["billingSessionType"] in ("Conversations", "Alerts", "Voice")
    assert isinstance(item["botId"], str)
    assert isinstance(item["billingSessionId"], str)
    for name in ("billingSessionStartDateTime", "billingSessionEndDateTime"):
        assert PLATFORM_DATETIME.fullmatch(item[name]), item[name]
    if item["billingSessionType"] == "Alerts":
        assert item["conversationSessionId"] is None
        assert item["conversationSessionStartDateTime"] is None
    else:
        assert re.fullmatch(r"[0-9a-f]{24}", item["conversationSessionId"])
        for name in ("conversationSessionStartDateTime", "conversationSessionEndDateTime"):
            assert PLATFORM_DATETIME.fullmatch(item[name]), item[name]
    for name in ("koreUserId", "channelUserId", "channel"):
        assert item[name] is None or isinstance(item[name], str)


@pytest.mark.parametrize("path", [BOT.format("support-bot"), *ACCOUNT_PATHS])
def test_the_sample_request_in_the_tests_week(
    http: httpx.Client, client: tuple[str, dict[str, str]], path: str
) -> None:
    _, headers = client
    response = http.post(path, content=orjson.dumps(WEEK), headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["total", "moreAvailable", "sessions"]
    assert (body["total"], body["moreAvailable"]) == (5, False)
    for item in body["sessions"]:
        check_session(item)
    chat = [s for s in body["sessions"] if s["channel"] == "chat"]
    assert sorted(s["billingSessionType"] for s in body["sessions"]) == [
        "Alerts",
        "Conversations",
        "Conversations",
        "Conversations",
        "Voice",
    ]
    assert chat[0] == chat[0] | {
        "botId": "support-bot",
        "koreUserId": "u-42",
        "channelUserId": "web/8f2c",
        "conversationSessionStartDateTime": "11-26-2026 7:00:00 am",
        "conversationSessionEndDateTime": "11-26-2026 7:20:00 am",
        "billingSessionStartDateTime": "11-26-2026 7:00:00 am",
        "billingSessionEndDateTime": "11-26-2026 7:15:00 am",
    }
    assert chat[1]["billingSessionStartDateTime"] == "11-26-2026 7:15:00 am"
    assert chat[0]["conversationSessionId"] == chat[1]["conversationSessionId"]
    voice = [s for s in body["sessions"] if s["channel"] == "voice"]
    assert {s["koreUserId"] for s in voice} == {None}


def test_skip_limit_channel_and_bot_id(
    http: httpx.Client, client: tuple[str, dict[str, str]]
) -> None:
    key, headers = client
    make_app(http, key=key, app_id="quiet-bot")
    path = ACCOUNT_PATHS[0]

    def ask(**fields: Any) -> dict[str, Any]:
        response = http.post(path, json={**WEEK, **fields}, headers=headers)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    everything = ask()["sessions"]
    page = ask(skip=1, limit=2)
    assert (page["total"], page["moreAvailable"]) == (5, True)
    assert page["sessions"] == everything[1:3]
    assert ask(skip=3, limit=2)["moreAvailable"] is False
    assert {s["channel"] for s in ask(channel="VOICE")["sessions"]} == {"voice"}
    assert ask(channel="IVR")["total"] == 0
    assert ask(botId="quiet-bot")["total"] == 0
    assert ask(botId="support-bot")["total"] == 5
    assert ask(fromDate="2026-11-26T07:15:00.000Z", toDate="2026-11-26T07:15:00.000Z")["total"] == 1


def test_unknown_bots_and_bad_bodies_are_refused_in_the_platforms_shape(
    server: Server, http: httpx.Client, client: tuple[str, dict[str, str]]
) -> None:
    _, headers = client
    _, other_key = make_workspace(server.engine, name="Other")
    make_app(http, key=other_key, app_id="their-bot")
    assert "their-bot" in errors(
        http.post(BOT.format("their-bot"), json=WEEK, headers=headers), 404
    )
    assert "nope" in errors(
        http.post(ACCOUNT_PATHS[1], json={**WEEK, "botId": "nope"}, headers=headers), 404
    )
    bad = [
        ({**WEEK, "fromDate": "2026-11-27"}, "fromDate"),
        ({"toDate": "2026-11-26"}, "fromDate"),
        ({**WEEK, "toDate": "26/11/2026"}, "toDate"),
        ({**WEEK, "fromDate": "2026-08-01"}, "92 days"),
        ({**WEEK, "limit": 5000}, "limit"),
    ]
    for body, named in bad:
        assert named in errors(http.post(ACCOUNT_PATHS[0], json=body, headers=headers), 400)
    not_json = http.post(ACCOUNT_PATHS[0], content=b"{", headers=headers)
    assert "JSON" in errors(not_json, 400)


def test_bad_tokens_are_refused(server: Server, http: httpx.Client) -> None:
    _, key = make_workspace(server.engine)
    client_id, secret = make_client(http, key=key)
    path = ACCOUNT_PATHS[0]
    now = to_micros(T0) // 1_000_000
    bad = {
        "no token": {"content-type": "application/json"},
        "wrong secret": platform(token(client_id, "x" * 43)),
        "alg none": platform(jwt.encode({"appId": client_id}, "", algorithm="none")),
        "expired": platform(token(client_id, secret, exp=now - 1)),
        "no appId": platform(jwt.encode({"sub": "1"}, secret, "HS256")),
        "unknown client": platform(token("cs-00000000-0000-0000-0000-000000000000", secret)),
    }
    for name, headers in bad.items():
        assert errors(http.post(path, json=WEEK, headers=headers), 401), name
    good = token(client_id, secret, exp=now + 60)
    assert http.post(path, json=WEEK, headers=platform(good)).status_code == 200
    bearer = {"Authorization": f"Bearer {good}"}
    assert http.post(path, json=WEEK, headers=bearer).status_code == 200


def test_a_client_without_the_scope_is_forbidden(server: Server, http: httpx.Client) -> None:
    _, key = make_workspace(server.engine)
    client_id, secret = make_client(http, key=key, scopes=[])
    response = http.post(ACCOUNT_PATHS[0], json=WEEK, headers=platform(token(client_id, secret)))
    assert "billing_sessions:read" in errors(response, 403)


def v1_sessions(http: httpx.Client, key: str, **query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {**query, "limit": "1000", **({"cursor": cursor} if cursor else {})}
        response = http.get("/v1/billing-sessions", params=params, headers=auth(key))
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_the_same_sessions_as_v1_on_a_random_history(server: Server, http: httpx.Client) -> None:
    _, key = make_workspace(server.engine)
    for app, timeout in APP_TIMEOUTS.items():
        make_app(http, key=key, app_id=app, idle_timeout_minutes=timeout)
    rng = random.Random(16)
    now = to_micros(T0)
    for batch in shuffled_batches(
        rng, random_history(rng, now=now, span=30 * DAY, conversations=80)
    ):
        assert send_events(http, key=key, body=batch).status_code == 200
    client_id, secret = make_client(http, key=key)
    headers = platform(token(client_id, secret))
    body = {"fromDate": "2026-10-27", "toDate": "2026-11-26", "limit": 1000}

    for bot in (None, "voice-bot"):
        path = BOT.format(bot) if bot else ACCOUNT_PATHS[0]
        answer = http.post(path, json=body, headers=headers).json()
        query = {"from": "2026-10-27T00:00:00Z", "to": "2026-11-27T00:00:00Z"}
        expected = v1_sessions(http, key, **query, **({"app_id": bot} if bot else {}))
        assert expected
        assert answer["total"] == len(expected)
        types = {"usage": "Conversations", "alert": "Alerts", "voice": "Voice"}
        assert [
            (s["billingSessionId"], s["botId"], s["billingSessionType"], s["channel"])
            for s in answer["sessions"]
        ] == [
            (s["billing_session_id"], s["app_id"], types[s["type"]], s["channel"]) for s in expected
        ]
