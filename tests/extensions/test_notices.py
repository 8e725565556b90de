"""``extension_notices``: what the Plan list shows of an app's extension requests."""

from __future__ import annotations

import httpx
import pytest

from botbill.extensions.notices import extension_notices
from botbill.kit.db import unit_of_work
from botbill.kit.instants import DAY, MINUTE, Micros
from tests.conftest import Server
from tests.extensions.factories import asked, decide
from tests.wallet.accounts import Tenant, funded_app, operator_key, tenant


@pytest.fixture
def acme(server: Server, http: httpx.Client) -> Tenant:
    who = tenant(server.engine, timezone="Asia/Kolkata")
    for app_id in ("support-bot", "sales-bot", "quiet-bot"):
        funded_app(http, server.engine, who, app_id=app_id, plan="essential", amount=10_000)
    return who


def notices(
    server: Server, who: Tenant, now: Micros, apps: tuple[str, ...] = ("support-bot",)
) -> dict[str, list[tuple[str, str]]]:
    with unit_of_work(server.engine, write=False) as session:
        found = extension_notices(session, who.workspace_id, apps, now)
    return {app: [(n.type, n.detail) for n in shown] for app, shown in found.items()}


def test_pending_then_approved_for_seven_days(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    request_id = asked(http, acme.key, days=14)
    now = server.clock.now()
    assert notices(server, acme, now) == {
        "support-bot": [
            ("extension_requested", "14 more days requested on 2026-11-26; awaiting a decision")
        ]
    }
    server.clock.advance(DAY)
    response = decide(http, operator_key(server.engine), request_id, approve=True, note="ok")
    assert response.status_code == 200, response.text
    decided = server.clock.now()
    approved = {
        "support-bot": [
            (
                "extension_approved",
                "14 more days approved: the period now ends on 2027-01-09 (ok)",
            )
        ]
    }
    assert notices(server, acme, decided) == approved
    assert notices(server, acme, decided + 7 * DAY - 1) == approved
    assert notices(server, acme, decided + 7 * DAY) == {}


def test_rejected_shows_the_note_then_a_new_request_replaces_it(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    ops = operator_key(server.engine)
    assert decide(http, ops, asked(http, acme.key, days=5), approve=False, note="no").is_success
    assert notices(server, acme, server.clock.now()) == {
        "support-bot": [("extension_rejected", "the request for 5 more days was rejected (no)")]
    }
    server.clock.advance(MINUTE)
    asked(http, acme.key, days=3)
    shown = notices(server, acme, server.clock.now())
    assert [kind for kind, _ in shown["support-bot"]] == ["extension_requested"]


def test_only_the_apps_asked_for_and_only_this_workspace(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    asked(http, acme.key, "support-bot")
    asked(http, acme.key, "sales-bot")
    them = tenant(server.engine, name="Them")
    funded_app(http, server.engine, them, app_id="support-bot", plan="essential", amount=10_000)
    now = server.clock.now()
    everything = notices(server, acme, now, ("support-bot", "sales-bot", "quiet-bot"))
    assert sorted(everything) == ["sales-bot", "support-bot"]
    assert notices(server, acme, now, ("sales-bot",)).keys() == {"sales-bot"}
    assert notices(server, acme, now, ()) == {}
    assert notices(server, them, now, ("support-bot",)) == {}
