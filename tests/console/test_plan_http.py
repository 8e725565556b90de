"""Plan, Usage and their forms over HTTP: who may open them, CSRF, clear refusals, and the
same answers as the API (both databases)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.console.conftest import People
from tests.console.kit import ConsoleClient
from tests.factories import add_app, auth, make_app


def subscription(people: People, app_id: str) -> dict[str, Any]:
    with httpx.Client(base_url=people.server.url) as http:
        response = http.get(f"/v1/apps/{app_id}/subscription", headers=auth(people.key))
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def an_app(people: People, app_id: str = "support-bot", **fields: Any) -> str:
    with httpx.Client(base_url=people.server.url) as http:
        make_app(http, key=people.key, app_id=app_id, owner_email=people.owner, **fields)
    return app_id


def test_a_shared_account_user_gets_403_at_plan_and_usage(
    people: People, console_client: Callable[[], ConsoleClient]
) -> None:
    app_id = an_app(people)
    client = console_client()
    assert client.sign_in(people.shared).status_code == 303
    for path in (
        people.url("plan"),
        people.url(f"plan/{app_id}"),
        people.url("usage"),
        people.url("usage.csv") + "?range=7d",
    ):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "may not see" in response.text
    menu = client.get(people.url("billing-sessions")).text
    assert 'href="' + people.url("plan") + '"' not in menu
    assert 'href="' + people.url("usage") + '"' not in menu


def test_a_manage_post_without_its_csrf_token_is_refused_and_changes_nothing(
    people: People, console_client: Callable[[], ConsoleClient]
) -> None:
    app_id = an_app(people, plan="standard")
    client = console_client()
    client.sign_in(people.admin)
    funds = {"amount": "250", "payment_method": "card", "token": "tok_ok"}
    refused = client.post(people.url(f"plan/{app_id}/funds"), funds, csrf=False)
    assert refused.status_code == 403
    forged = client.post(people.url(f"plan/{app_id}/funds"), {**funds, "csrf_token": "x" * 43})
    assert forged.status_code == 403
    assert subscription(people, app_id)["balance"]["amount"] == 0
    accepted = client.post(people.url(f"plan/{app_id}/funds"), funds)
    assert accepted.status_code == 303
    assert subscription(people, app_id)["balance"]["amount"] == 25_000


def test_a_developer_may_not_manage(
    people: People, console_client: Callable[[], ConsoleClient]
) -> None:
    app_id = an_app(people, plan="standard")
    client = console_client()
    client.sign_in(people.developer)
    assert client.csrf_token  # the refusal below is the role's, not a missing token
    response = client.post(
        people.url(f"plan/{app_id}/funds"),
        {"amount": "250", "payment_method": "card", "token": "tok_ok"},
    )
    assert response.status_code == 403
    assert "Only owners and admins" in response.text
    assert subscription(people, app_id)["balance"]["amount"] == 0


def test_bad_amounts_are_explained_and_nothing_is_added(
    people: People, console_client: Callable[[], ConsoleClient]
) -> None:
    app_id = an_app(people, plan="standard")
    client = console_client()
    client.sign_in(people.owner)
    path = people.url(f"plan/{app_id}/funds")
    for amount, status, says in (
        ("12.345", 422, "2 decimal places"),
        ("ten", 422, "not an amount"),
        ("5", 422, "10,000 to 2,000,000 minor units"),
    ):
        response = client.post(
            path, {"amount": amount, "payment_method": "card", "token": "tok_ok"}
        )
        assert response.status_code == status, amount
        assert says in response.text
    assert subscription(people, app_id)["balance"]["amount"] == 0


def test_the_pages_show_what_the_api_answers(
    people: People, console_client: Callable[[], ConsoleClient]
) -> None:
    """The PostgreSQL smoke test of these sections: the Plan list, the Manage page, the
    Usage page and its CSV, against the API's own answers."""
    an_app(people, "support-bot", plan="standard")
    an_app(people, "sales-bot")
    client = console_client()
    client.sign_in(people.admin)
    plan = client.get(people.url("plan"))
    assert plan.status_code == 200
    assert 'data-app="sales-bot"' in plan.text
    assert 'data-app="support-bot"' in plan.text
    manage = client.get(people.url("plan/sales-bot") + "?plan=essential")
    assert manage.status_code == 200
    assert 'id="quote-charge"' in manage.text
    usage = client.get(people.url("usage") + "?range=30d&granularity=week")
    assert usage.status_code == 200
    assert '<svg class="usage-chart"' in usage.text
    csv = client.get(people.url("usage.csv") + "?range=30d&granularity=week&app_id=sales-bot")
    with httpx.Client(base_url=people.server.url) as http:
        api = http.get(
            "/v1/usage.csv",
            params={"range": "30d", "granularity": "week", "app_id": "sales-bot"},
            headers=auth(people.key),
        )
    assert csv.status_code == 200
    assert csv.text == api.text
    bad = client.get(
        people.url("usage") + "?range=custom&from=2026-01-01&to=2026-11-01&granularity=hour"
    )
    assert bad.status_code == 422
    assert "hourly buckets need a range of at most 7 days" in bad.text


def test_the_plan_list_pages_by_fifty(
    people: People, console_client: Callable[[], ConsoleClient]
) -> None:
    for n in range(51):
        add_app(people.server.engine, workspace_id=people.workspace_id, app_id=f"bot-{n:02d}")
    client = console_client()
    client.sign_in(people.admin)
    first = client.get(people.url("plan")).text
    assert first.count('data-app="bot-') == 50
    assert 'data-app="bot-50"' not in first
    assert people.url("plan") + "?after=bot-49" in first
    second = client.get(people.url("plan") + "?after=bot-49").text
    assert second.count('data-app="bot-') == 1
    assert 'data-app="bot-50"' in second
    assert "Next page" not in second
