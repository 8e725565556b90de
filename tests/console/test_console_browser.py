"""The console in Chromium: signing in by the form's labels, each role's menu, signing
out, the picker, Billing Sessions and Orders & Invoices as a person sees them.

Screenshots go to ``$BOTBILL_SCREENSHOTS`` when it is set (the README's pictures).
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.console.conftest import People
from tests.console.kit import PASSWORD, make_person, sign_in, sqlite_only
from tests.console.test_billing_sessions_http import history
from tests.console.test_orders_http import paid_order
from tests.factories import T0, event, make_member, make_workspace, send_events

MENU = ["Billing Sessions", "Orders & Invoices", "Plan", "Usage"]


def screenshot(page: Page, name: str) -> None:
    folder = os.environ.get("BOTBILL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def menu_of(page: Page) -> list[str]:
    return page.get_by_role("navigation", name="Console").locator(".menu a").all_inner_texts()


@sqlite_only
def test_sign_in_by_labels_then_sign_out(page: Page, people: People) -> None:
    page.goto("/console")
    expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    screenshot(page, "sign-in")
    page.get_by_label("Email").fill(people.admin)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    expect(page.get_by_label("Email")).to_have_value(people.admin)

    sign_in(page, people.admin)
    expect(page).to_have_url(re.compile(r"/billing-sessions$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Billing Sessions")
    assert menu_of(page) == MENU
    expect(page.get_by_role("link", name="Billing Sessions")).to_have_attribute(
        "aria-current", "page"
    )

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    page.goto(people.url("orders"))
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next="))


@sqlite_only
@pytest.mark.parametrize(
    ("role", "menu"),
    [("shared", MENU[:2]), ("owner", MENU), ("operator", [*MENU, "Operator"])],
)
def test_each_role_s_menu_and_refusals(
    page: Page, people: People, role: str, menu: list[str]
) -> None:
    sign_in(page, getattr(people, role))
    if role == "operator":  # an operator in no workspace goes to the operator pages
        page.goto(people.url("billing-sessions"))
    assert menu_of(page) == menu
    if role == "shared":
        response = page.goto(people.url("plan"))
        assert response is not None
        assert response.status == 403
        expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
        assert menu_of(page) == MENU[:2]
        screenshot(page, "not-allowed")


@sqlite_only
def test_the_picker_opens_either_workspace(page: Page, people: People) -> None:
    other_id, _ = make_workspace(people.server.engine, name="Globex")
    make_person(people.server.engine, workspace_id=other_id, email=people.admin, role="shared")
    sign_in(page, people.admin)
    expect(page).to_have_url(re.compile(r"/console/workspaces$"))
    screenshot(page, "picker")
    page.get_by_role("link", name="Open Globex").click()
    expect(page).to_have_url(re.compile(rf"/console/w/{other_id}/billing-sessions$"))
    assert menu_of(page) == MENU[:2]
    page.locator(".switcher__menu summary").click()
    page.get_by_role("link", name="Acme").click()
    assert menu_of(page) == MENU


@sqlite_only
def test_billing_sessions_filters_and_csv_in_the_browser(page: Page, people: People) -> None:
    history(people)
    with httpx.Client(base_url=people.server.url) as http:
        alerts = [
            event("alert.delivered", at=T0 - timedelta(hours=5, minutes=i), app="sales-bot")
            for i in range(8)
        ]
        assert send_events(http, key=people.key, body=alerts).status_code == 200
    sign_in(page, people.shared)
    expect(page.get_by_text("31-minute conversation counts as")).to_be_visible()
    rows = page.locator("section[aria-labelledby=list-heading] tbody tr")
    expect(rows).to_have_count(13)
    screenshot(page, "billing-sessions")
    page.get_by_label("App").select_option("sales-bot")
    page.get_by_label("Type").select_option("alert")
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(9)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0].startswith("billing_session_id,type,app_id")
    assert len(lines) == 10
    assert all(",alert,sales-bot," in line for line in lines[1:])


@sqlite_only
def test_orders_and_the_invoice_download(page: Page, people: People) -> None:
    order = paid_order(people)
    sign_in(page, people.owner)
    page.get_by_role("link", name="Orders & Invoices").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Orders & Invoices")
    expect(page.get_by_role("cell", name=order["id"])).to_be_visible()
    screenshot(page, "orders")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(order["number"])).click()
    assert download.value.suggested_filename == f"{order['number']}.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")


@sqlite_only
def test_an_invitation_sets_the_password_in_the_browser(page: Page, people: People) -> None:
    with httpx.Client(base_url=people.server.url) as http:
        link = make_member(http, key=people.key, email="ann@acme.example", role="admin")
    page.goto(link["invitation_url"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Set your password")
    screenshot(page, "invitation")
    page.get_by_label("Password", exact=True).fill("my own new password")
    page.get_by_label("Repeat the password").fill("my own new password")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is set.")
    sign_in(page, "ann@acme.example", "my own new password")
    assert menu_of(page) == MENU
    page.goto(link["invitation_url"])
    expect(page.get_by_role("alert")).to_contain_text("has been used or is not valid")


@sqlite_only
def test_keyboard_reaches_the_form_with_a_visible_focus(page: Page, people: People) -> None:
    page.goto("/console/sign-in")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email")).to_be_focused()
    outline = page.get_by_label("Email").evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"
    page.keyboard.type(people.admin)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/billing-sessions$"))


def test_postgresql_smoke_sign_in_and_a_page(page: Page, people: People, backend: str) -> None:
    """Both databases behind the browser; the rest of the browser tests run on SQLite."""
    sign_in(page, people.admin)
    expect(page.get_by_role("heading", level=1)).to_have_text("Billing Sessions")
    page.get_by_role("link", name="Orders & Invoices").click()
    expect(page.get_by_text("No orders yet.")).to_be_visible()
