"""The Billing Sessions page: the explanation, the list's filters and pages, the CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from tests.console.conftest import People
from tests.console.kit import ConsoleClient
from tests.factories import T0, auth, event, make_app, minutes, send_events

Clients = Callable[[], ConsoleClient]
USAGE = 'badge--neutral">usage<'
ALERT = 'badge--warning">alert<'


def history(people: People) -> None:
    """support-bot: a 31-minute conversation today (3 usage sessions) and a 1-minute one
    three days ago; sales-bot (30-minute idle timeout): an alert today."""
    with httpx.Client(base_url=people.server.url) as http:
        make_app(http, key=people.key, app_id="support-bot", plan="standard")
        make_app(http, key=people.key, app_id="sales-bot", plan="standard", idle_timeout_minutes=30)
        start = T0 - timedelta(hours=2)
        old = T0 - timedelta(days=3)
        events = [
            *(
                event("conversation.message", at=start + minutes(m), conversation_id="c1", sender=s)
                for m, s in ((0, "user"), (10, "bot"), (20, "user"), (31, "bot"))
            ),
            event("conversation.ended", at=start + minutes(31), conversation_id="c1"),
            event("conversation.message", at=old, conversation_id="c0", sender="user"),
            event("conversation.ended", at=old + minutes(1), conversation_id="c0"),
            event("alert.delivered", at=T0 - timedelta(hours=1), app="sales-bot"),
        ]
        response = send_events(http, key=people.key, body=events)
        assert response.status_code == 200, response.text


def signed_in(people: People, console_client: Clients, who: str | None = None) -> ConsoleClient:
    client = console_client()
    assert client.sign_in(who or people.admin).status_code == 303
    return client


def test_the_page_explains_counting_with_this_workspace_s_idle_timeouts(
    people: People, console_client: Clients
) -> None:
    history(people)
    page = signed_in(people, console_client).get(people.url("billing-sessions"))
    assert page.status_code == 200
    text = page.text
    assert "One usage session is 15 minutes" in text
    assert "31-minute conversation counts as <strong>3 sessions</strong>" in text
    assert "Every alert delivered to a user is one alert session" in text
    assert '<td class="mono">sales-bot</td><td>30 minutes</td>' in text
    assert '<td class="mono">support-bot</td><td>15 minutes</td>' in text


def test_the_list_shows_the_last_7_days_and_filters_by_app_type_and_dates(
    people: People, console_client: Clients
) -> None:
    history(people)
    client = signed_in(people, console_client, people.shared)
    url = people.url("billing-sessions")

    everything = client.get(url).text
    assert (everything.count(USAGE), everything.count(ALERT)) == (4, 1)
    assert 'value="2026-11-20"' in everything  # from: 7 local days up to today
    assert (
        client.get(url, params={"app_id": "sales-bot"}).text.count(ALERT),
        client.get(url, params={"app_id": "sales-bot"}).text.count(USAGE),
    ) == (1, 0)
    only_usage = client.get(url, params={"type": "usage"}).text
    assert (only_usage.count(USAGE), only_usage.count(ALERT)) == (4, 0)
    today = client.get(url, params={"from": "2026-11-26", "to": "2026-11-26"}).text
    assert (today.count(USAGE), today.count(ALERT)) == (3, 1)
    three_days_ago = client.get(url, params={"from": "2026-11-23", "to": "2026-11-23"}).text
    assert (three_days_ago.count(USAGE), three_days_ago.count(ALERT)) == (1, 0)


def test_bad_filters_are_named_and_the_defaults_stand_in(
    people: People, console_client: Clients
) -> None:
    history(people)
    client = signed_in(people, console_client)
    url = people.url("billing-sessions")
    bad_date = client.get(url, params={"from": "yesterday"})
    assert bad_date.status_code == 422
    assert "From: &#39;yesterday&#39; is not a date" in bad_date.text
    assert bad_date.text.count(USAGE) == 4
    unknown_app = client.get(url, params={"app_id": "nope"})
    assert unknown_app.status_code == 422
    assert "No app &#39;nope&#39;" in unknown_app.text
    assert client.get(url, params={"type": "sms"}).status_code == 422


def test_pages_of_50_follow_one_another(people: People, console_client: Clients) -> None:
    with httpx.Client(base_url=people.server.url) as http:
        make_app(http, key=people.key, app_id="sales-bot", plan="standard")
        alerts = [
            event("alert.delivered", at=T0 - timedelta(minutes=70 - i), app="sales-bot")
            for i in range(60)
        ]
        assert send_events(http, key=people.key, body=alerts).status_code == 200
    client = signed_in(people, console_client)
    first = client.get(people.url("billing-sessions"))
    assert first.text.count(ALERT) == 50
    next_href = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(next_href.replace("&amp;", "&"))
    assert second.text.count(ALERT) == 10
    assert 'rel="next"' not in second.text
    assert "First page" in second.text


def test_the_csv_holds_the_api_s_sessions_for_the_filters(
    people: People, console_client: Clients
) -> None:
    history(people)
    client = signed_in(people, console_client)
    response = client.get(
        people.url("billing-sessions") + ".csv", params={"from": "2026-11-20", "to": "2026-11-26"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "billing-sessions-2026-11-20-2026-11-26.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    with httpx.Client(base_url=people.server.url) as http:
        api: list[dict[str, Any]] = http.get(
            "/v1/billing-sessions",
            params={"from": "2026-11-20T00:00:00Z", "to": "2026-11-27T00:00:00Z"},
            headers=auth(people.key),
        ).json()["items"]
    assert len(rows) == 5
    assert rows == [{k: "" if v is None else v for k, v in item.items()} for item in api]

    alerts = client.get(
        people.url("billing-sessions") + ".csv", params={"type": "alert", "app_id": "sales-bot"}
    )
    assert [row["type"] for row in csv.DictReader(io.StringIO(alerts.text))] == ["alert"]
