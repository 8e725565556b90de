"""No GET, whatever its key's scope, renews a plan, places an order or charges a card:
with the jobs off, reads of an app whose renewal and auto-reload are due show the state as
it is, and one lifecycle run then renews exactly once."""

from __future__ import annotations

import httpx

from botbill.auth.keys import Scope
from botbill.kit.instants import DAY
from tests.conftest import Server
from tests.factories import auth, make_key
from tests.plans.lifecycle import orders_of, reload_on, run, spend
from tests.wallet.accounts import funded_app, money_state, tenant

READS = [
    "/v1/apps/support-bot/subscription",
    "/v1/subscriptions",
    "/v1/apps/support-bot/entitlement",
    "/v1/orders",
    "/v1/usage?range=7d",
    "/v1/billing-sessions?from=2026-11-01T00:00:00Z&to=2027-01-01T00:00:00Z",
]


def test_reads_place_no_order_and_one_lifecycle_run_renews_once(
    server: Server, http: httpx.Client
) -> None:
    who = tenant(server.engine)
    funded_app(http, server.engine, who, plan="essential", amount=20_000)  # a card saved
    reload_on(http, who, threshold=15_000)
    spend(server.engine, who, 500, now=server.clock.now())  # 20,000 - 9,900 - 500: a dip
    server.clock.advance(31 * DAY)  # the period ended: its renewal is due, and the reload
    reader = make_key(server.engine, workspace_id=who.workspace_id, scopes=[Scope.READ])
    before = money_state(server.engine)

    for key in (reader, who.key):
        for path in READS:
            response = http.get(path, headers=auth(key))
            assert response.status_code == 200, (path, response.text)
    detail = http.get(READS[0], headers=auth(reader)).json()
    assert (detail["plan"], detail["status"], detail["renews"]) == ("essential", "active", True)
    assert detail["period_end"] == "2026-12-26T12:00:00Z"  # in the past: the renewal is due
    assert money_state(server.engine) == before  # no order, no charge, no ledger entry

    counts = run(server)
    assert (counts.rolled, counts.reloads_paid) == (1, 1)
    assert run(server).rolled == 0  # renewed exactly once
    kinds = [order[0] for order in orders_of(server.engine, who)]
    assert kinds.count("renewal") == 1
    assert http.get(READS[0], headers=auth(reader)).json()["period_start"] == (
        "2026-12-26T12:00:00Z"
    )
