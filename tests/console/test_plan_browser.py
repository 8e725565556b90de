"""The Plan section in Chromium: Manage on hover, a plan change shown before it is
confirmed, add funds, the owner change from the row's menu."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from botbill.kit.instants import to_micros
from botbill.kit.money import Money
from botbill.plans.changes import unused_fee_credit
from tests.console.conftest import People
from tests.console.kit import sign_in, sqlite_only
from tests.factories import T0, auth, make_app

pytestmark = sqlite_only


def api(people: People, path: str) -> Any:
    with httpx.Client(base_url=people.server.url) as http:
        response = http.get(path, headers=auth(people.key))
    assert response.status_code == 200, response.text
    return response.json()


def a_bot(people: People, **fields: Any) -> str:
    with httpx.Client(base_url=people.server.url) as http:
        make_app(
            http,
            key=people.key,
            app_id="support-bot",
            name="Support Bot",
            owner_email=people.owner,
            **fields,
        )
    return "support-bot"


def open_manage(page: Page, people: People) -> None:
    page.goto(people.url("plan"))
    manage = page.get_by_role("link", name="Manage Support Bot")
    expect(manage).to_be_hidden()
    page.locator("tr[data-app='support-bot']").hover()
    expect(manage).to_be_visible()
    manage.click()
    expect(page.get_by_role("heading", name="Manage Support Bot")).to_be_visible()


def add_funds(page: Page, amount: str, token: str) -> None:
    funds = page.locator("section[aria-labelledby=funds]")
    funds.get_by_label("Amount (USD)").fill(amount)
    funds.get_by_label("Card token").fill(token)
    funds.get_by_role("button", name="Add funds").click()
    page.wait_for_load_state()
    print(
        "AFTER FUNDS",
        page.url,
        page.locator("h1").all_text_contents(),
        page.locator(".notice").all_text_contents(),
    )


def review(page: Page, plan: str) -> None:
    page.get_by_label("New plan").select_option(plan)
    page.get_by_role("button", name="Review change").click()


def test_add_funds_by_card_and_a_declined_card_changes_nothing(people: People, page: Page) -> None:
    a_bot(people, plan="standard")
    sign_in(page, people.admin)
    open_manage(page, people)
    expect(page.get_by_text("Between USD 100.00 and USD 20,000.00 per order")).to_be_visible()
    add_funds(page, "250", "tok_ok")
    expect(page.get_by_text("The funds were added to the balance.")).to_be_visible()
    expect(page.locator("#balance")).to_have_text("USD 250.00")
    add_funds(page, "300", "tok_declined")
    expect(page.locator(".notice--error")).to_contain_text("the card was declined")
    expect(page.locator("#balance")).to_have_text("USD 250.00")
    assert api(people, "/v1/apps/support-bot/subscription")["balance"]["amount"] == 25_000
    assert [o["payment_status"] for o in api(people, "/v1/orders")["items"]] == ["paid"]


def test_an_upgrade_shows_its_charge_and_credit_before_it_is_confirmed(
    people: People, page: Page
) -> None:
    a_bot(people, plan="standard")
    sign_in(page, people.owner)
    open_manage(page, people)
    add_funds(page, "1000", "tok_ok")
    review(page, "essential")
    expect(page.locator("#quote-fee")).to_have_text("USD 99.00")
    expect(page.locator("#quote-credit")).to_have_text("USD 0.00")
    page.get_by_role("button", name="Confirm upgrade").click()
    expect(page.locator("#current-plan")).to_have_text("essential")
    expect(page.locator("#balance")).to_have_text("USD 901.00")

    at = T0 + timedelta(days=10, hours=5)
    people.server.clock.set(to_micros(at))
    period = api(people, "/v1/apps/support-bot/subscription")
    credit = unused_fee_credit(
        fee_paid=9_900,
        start=to_micros(datetime.fromisoformat(period["period_start"])),
        end=to_micros(datetime.fromisoformat(period["period_end"])),
        at=to_micros(at),
    )
    assert 0 < credit < 9_900
    sign_in(page, people.owner)  # ten idle days ended the session
    page.goto(people.url("plan/support-bot"))
    review(page, "advanced")
    expect(page.locator("#quote-fee")).to_have_text("USD 499.00")
    expect(page.locator("#quote-credit")).to_have_text(Money(credit, "USD").format())
    expect(page.locator("#quote-charge")).to_have_text(Money(49_900 - credit, "USD").format())
    assert api(people, "/v1/apps/support-bot/subscription")["plan"] == "essential"
    page.get_by_role("button", name="Confirm upgrade").click()
    expect(page.locator("#current-plan")).to_have_text("advanced")
    order = api(people, "/v1/orders")["items"][0]
    assert (order["plan"], order["amount"], order["credit"]) == (
        "advanced",
        49_900 - credit,
        credit,
    )


def test_a_downgrade_is_scheduled_then_withdrawn(people: People, page: Page) -> None:
    a_bot(people, plan="standard")
    sign_in(page, people.admin)
    open_manage(page, people)
    add_funds(page, "200", "tok_ok")
    review(page, "essential")
    page.get_by_role("button", name="Confirm upgrade").click()
    review(page, "standard")
    expect(page.locator("#quote")).to_contain_text("Downgrade to Standard")
    page.get_by_role("button", name="Schedule downgrade").click()
    expect(page.locator("#scheduled")).to_contain_text("moves to standard")
    scheduled = api(people, "/v1/apps/support-bot/subscription")["scheduled_change"]
    assert scheduled["plan"] == "standard"
    page.get_by_role("button", name="Withdraw scheduled change").click()
    expect(page.locator("#scheduled")).to_have_count(0)
    assert api(people, "/v1/apps/support-bot/subscription")["scheduled_change"] is None


def test_the_owner_changes_from_the_row_menu_to_eligible_members_only(
    people: People, page: Page
) -> None:
    a_bot(people)
    sign_in(page, people.admin)
    page.goto(people.url("plan"))
    # By keyboard: the row's notices icon, then Manage (shown while the row has focus).
    page.get_by_label("Show notices for Support Bot").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Manage Support Bot")).to_be_focused()
    page.get_by_label("More actions for Support Bot").click()
    choices = page.get_by_label("New owner of Support Bot")
    offered = choices.locator("option").all_text_contents()
    assert any(people.developer in text for text in offered)
    assert not any(people.shared in text for text in offered)
    choices.select_option(people.developer)
    page.get_by_role("button", name="Change owner").click()
    expect(page.locator(".notice--success")).to_contain_text(f"owned by {people.developer}")
    expect(page.locator("tr[data-app='support-bot']")).to_contain_text(people.developer)
    assert api(people, "/v1/subscriptions")["items"][0]["owner_email"] == people.developer
