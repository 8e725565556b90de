"""The operator's pages in Chromium: an extension request decided, a wire transfer
confirmed, each seen by the workspace's admin."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.conftest import Server
from tests.console.conftest import People
from tests.console.kit import sign_in, sqlite_only
from tests.factories import auth, make_app

pytestmark = sqlite_only


def api(people: People, path: str) -> Any:
    with httpx.Client(base_url=people.server.url) as http:
        response = http.get(path, headers=auth(people.key))
    assert response.status_code == 200, response.text
    return response.json()


def a_bot(people: People, **fields: Any) -> None:
    with httpx.Client(base_url=people.server.url) as http:
        make_app(
            http,
            key=people.key,
            app_id="support-bot",
            name="Support Bot",
            owner_email=people.owner,
            **fields,
        )


def operator_page(browser: Browser, server: Server, people: People) -> Page:
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, people.operator)
    page.goto("/console/operator")
    return page


def test_an_extension_request_is_approved_and_the_admin_sees_it(
    people: People, page: Page, browser: Browser
) -> None:
    a_bot(people)  # a trial: its period may be extended
    before = api(people, "/v1/apps/support-bot/subscription")["period_end"]
    sign_in(page, people.admin)
    page.goto(people.url("plan/support-bot"))
    page.get_by_label("Days (1 to 30)").fill("10")
    page.get_by_label("Reason").fill("Launch slipped a week")
    page.get_by_role("button", name="Request extension").click()
    expect(page.locator("#extension-requests")).to_contain_text("pending")

    operator = operator_page(browser, people.server, people)
    queue = operator.locator("#extension-queue tr", has_text="Launch slipped a week")
    queue.get_by_label("Note for support-bot").fill("Granted once")
    queue.get_by_role("button", name="Approve").click()
    expect(operator.locator(".notice--success")).to_contain_text("approved")
    expect(operator.locator("#extension-queue")).to_have_count(0)
    operator.context.close()

    page.reload()
    expect(page.locator("#extension-requests")).to_contain_text("approved")
    expect(page.locator("#extension-requests")).to_contain_text("Granted once")
    page.goto(people.url("plan"))
    page.get_by_label("Show notices for Support Bot").click()
    expect(page.get_by_role("region", name="Notices for Support Bot")).to_contain_text(
        "extension_approved"
    )
    assert api(people, "/v1/apps/support-bot/subscription")["period_end"] > before


def test_a_wire_transfer_is_confirmed_by_an_operator(
    people: People, page: Page, browser: Browser
) -> None:
    a_bot(people, plan="standard")
    sign_in(page, people.owner)
    page.goto(people.url("plan/support-bot"))
    funds = page.locator("section[aria-labelledby=funds]")
    funds.get_by_label("Amount (USD)").fill("500")
    funds.get_by_label("Wire transfer").check()
    funds.get_by_role("button", name="Add funds").click()
    expect(page.locator("#wire-instructions")).to_contain_text("USD 500.00")
    expect(page.locator("#balance")).to_have_text("USD 0.00")
    order = api(people, "/v1/orders")["items"][0]
    assert order["payment_status"] == "pending"

    operator = operator_page(browser, people.server, people)
    operator.get_by_role("button", name=f"Confirm receipt of {order['id']}").click()
    expect(operator.locator(".notice--success")).to_contain_text(f"Order {order['id']} is paid")
    operator.context.close()

    page.reload()
    expect(page.locator("#balance")).to_have_text("USD 500.00")
