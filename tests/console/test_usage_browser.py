"""The Usage graph in Chromium: hovering (or focusing) a point shows Date, Sessions, Voice
Sessions and Agents as page text, equal to ``GET /v1/usage`` for the same history."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.console.conftest import People
from tests.console.kit import sign_in, sqlite_only
from tests.factories import T0, auth, event, make_app, minutes, send_events

pytestmark = sqlite_only


def known_history(people: People) -> None:
    """A week in Asia/Kolkata: more chat each day, voice calls every other day, and an
    agent seated for three days."""
    events: list[dict[str, Any]] = []
    for day in range(7):
        noon = T0 - timedelta(days=day, hours=3)
        for n in range(day + 1):
            conversation = f"chat-{day}-{n}"
            events += [
                event("conversation.started", at=noon + minutes(n), conversation_id=conversation),
                event(
                    "conversation.message",
                    at=noon + minutes(n + 1),
                    conversation_id=conversation,
                    sender="user",
                ),
            ]
        if day % 2 == 0:
            call = f"call-{day}"
            events += [
                event("conversation.started", at=noon, conversation_id=call, channel="voice"),
                event(
                    "conversation.message",
                    at=noon + minutes(20),
                    conversation_id=call,
                    sender="user",
                    channel="voice",
                ),
            ]
    events += [
        event("agent.seat_assigned", at=T0 - timedelta(days=4), agent_id="asha"),
        event("agent.seat_released", at=T0 - timedelta(days=1, hours=20), agent_id="asha"),
    ]
    with httpx.Client(base_url=people.server.url) as http:
        make_app(http, key=people.key, app_id="support-bot", plan="standard")
        response = send_events(http, key=people.key, body=events)
        assert response.status_code == 200, response.text


def api_usage(people: People, **query: str) -> dict[str, Any]:
    with httpx.Client(base_url=people.server.url) as http:
        response = http.get("/v1/usage", params=query, headers=auth(people.key))
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def tooltip(page: Page, index: int) -> dict[str, str]:
    tip = page.locator(".usage-chart .point").nth(index).locator(".tip")
    expect(tip).to_be_visible()
    rows = tip.locator("text").all()
    # SVG text has no inner_text: its text content, read once the tooltip is shown.
    return {
        row.locator(".tip-name").text_content() or "": row.locator(".tip-value").text_content()
        or ""
        for row in rows
    }


def test_each_tooltip_shows_the_api_s_values(people: People, page: Page) -> None:
    known_history(people)
    sign_in(page, people.admin)
    page.goto(people.url("usage") + "?range=7d")
    expected = api_usage(people, range="7d")
    points = page.locator(".usage-chart .point")
    expect(points).to_have_count(len(expected["series"]))
    assert sum(p["voice_sessions"] for p in expected["series"]) > 0
    assert max(p["agents"] for p in expected["series"]) == 1
    for index, bucket in enumerate(expected["series"]):
        assert not points.nth(index).locator(".tip").is_visible()
        points.nth(index).locator(".hit").hover()
        assert tooltip(page, index) == {
            "Date": bucket["start"][:10],
            "Sessions": f"{bucket['billing_sessions']:,}",
            "Voice Sessions": f"{bucket['voice_sessions']:,}",
            "Agents": f"{bucket['agents']:,}",
        }


def test_hourly_tooltips_by_keyboard_and_the_filters(people: People, page: Page) -> None:
    known_history(people)
    sign_in(page, people.owner)
    page.goto(people.url("usage"))
    page.get_by_label("Bot", exact=True).select_option("support-bot")
    page.get_by_label("Range", exact=True).select_option("24h")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"range=24h"))
    expected = api_usage(people, range="24h", app_id="support-bot")
    assert expected["tz"] == "UTC"
    busy = next(i for i, p in enumerate(expected["series"]) if p["billing_sessions"])
    page.locator(".usage-chart .point").nth(busy).focus()
    start = expected["series"][busy]["start"]
    assert tooltip(page, busy)["Date"] == f"{start[:10]} {start[11:16]}"
    assert tooltip(page, busy)["Sessions"] == str(expected["series"][busy]["billing_sessions"])
    table = page.locator(".usage-table tbody tr")
    expect(table).to_have_count(24)
