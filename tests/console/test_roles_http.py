"""What each role sees in the menu and what is refused at its address (SPEC §6)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from sqlalchemy import update

from botbill.kit.db import unit_of_work
from botbill.workspaces.models import Workspace
from tests.console.conftest import People
from tests.console.kit import ConsoleClient

Clients = Callable[[], ConsoleClient]
SECTIONS = {
    "billing-sessions": "Billing Sessions",
    "orders": "Orders &amp; Invoices",
    "plan": "Plan",
    "usage": "Usage",
}
MENU_LINK = re.compile(r'<li><a href="/console/w/[^/"]+/([a-z-]+)"[^>]*>([^<]+)</a></li>')


def menu(html: str) -> dict[str, str]:
    return dict(MENU_LINK.findall(html))


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("owner", ["billing-sessions", "orders", "plan", "usage"]),
        ("admin", ["billing-sessions", "orders", "plan", "usage"]),
        ("shared", ["billing-sessions", "orders"]),
        ("operator", ["billing-sessions", "orders", "plan", "usage"]),
    ],
)
def test_each_role_sees_its_sections_and_is_refused_the_rest(
    people: People, console_client: Clients, role: str, visible: list[str]
) -> None:
    client = console_client()
    client.sign_in(getattr(people, role))
    page = client.get(people.url(visible[0]))
    assert page.status_code == 200
    assert menu(page.text) == {section: SECTIONS[section] for section in visible}
    assert ("/console/operator" in page.text) == (role == "operator")
    for section in SECTIONS:
        status = client.get(people.url(section)).status_code
        if section in visible:
            assert status not in (303, 403, 404), section
        else:
            assert status == 403, section


def test_a_developer_sees_no_billing_section(people: People, console_client: Clients) -> None:
    client = console_client()
    client.sign_in(people.developer)
    landing = client.get("/console")
    assert landing.status_code == 403
    assert menu(landing.text) == {}
    for section in SECTIONS:
        refused = client.get(people.url(section))
        assert refused.status_code == 403
        assert "developer" in refused.text
        assert menu(refused.text) == {}


def test_orders_and_invoices_are_absent_and_refused_for_an_enterprise_workspace(
    people: People, console_client: Clients
) -> None:
    with unit_of_work(people.server.engine, write=True) as session:  # a workspace with no apps
        session.execute(
            update(Workspace)
            .where(Workspace.id == people.workspace_id)
            .values(account_type="enterprise")
        )
    for who in (people.admin, people.operator, people.shared):
        client = console_client()
        client.sign_in(who)
        page = client.get(people.url("billing-sessions"))
        assert page.status_code == 200
        assert "orders" not in menu(page.text)
        refused = client.get(people.url("orders"))
        assert refused.status_code == 403
        assert "not available to Enterprise workspaces" in refused.text
