"""``botbill plan catalog list|set``: operators keep the catalog."""

from __future__ import annotations

import json

import httpx

from tests.conftest import Server
from tests.factories import auth, run_botbill
from tests.wallet.accounts import new_app, subscription, tenant


def test_list_shows_the_defaults(server: Server, database_url: str) -> None:
    result = run_botbill("plan", "catalog", "list", database_url=database_url)
    assert result.returncode == 0, result.stderr
    plans = [json.loads(line) for line in result.stdout.splitlines()]
    assert [p["code"] for p in plans] == [
        "trial",
        "standard",
        "essential",
        "advanced",
        "enterprise",
    ]
    assert plans[2]["fee"] == 9_900


def test_an_edit_applies_to_new_periods_and_a_new_plan_is_listed(
    server: Server, http: httpx.Client, database_url: str
) -> None:
    who = tenant(server.engine)
    new_app(http, server.engine, who, plan="advanced")
    edited = run_botbill(
        "plan",
        "catalog",
        "set",
        "advanced",
        "--included-billing=20000",
        "--fee=59900",
        database_url=database_url,
    )
    assert edited.returncode == 0, edited.stderr
    assert json.loads(edited.stdout)["fee"] == 59_900
    added = run_botbill(
        "plan",
        "catalog",
        "set",
        "growth",
        "--name=Growth",
        "--fee=19900",
        "--included-billing=3000",
        "--usage-price=12",
        "--alert-price=12",
        "--voice-price=28",
        database_url=database_url,
    )
    assert added.returncode == 0, added.stderr
    codes = [p["code"] for p in http.get("/v1/plans", headers=auth(who.key)).json()["items"]]
    assert codes[-1] == "growth"
    advanced = next(
        p
        for p in http.get("/v1/plans", headers=auth(who.key)).json()["items"]
        if p["code"] == "advanced"
    )
    assert (advanced["fee"], advanced["included"]["billing_sessions"]) == (59_900, 20_000)
    # The running period keeps the allowance it started with.
    assert subscription(http, key=who.key)["included"]["billing_sessions"] == 10_000


def test_bad_edits_are_refused(server: Server, database_url: str) -> None:
    for args, message in [
        (["Bad Code"], "plan code"),
        (["enterprise", "--fee=100"], "contract"),
        (["trial", "--usage-price=-1"], "usage-price"),
    ]:
        result = run_botbill("plan", "catalog", "set", *args, database_url=database_url)
        assert result.returncode == 2, result.stdout
        assert message in result.stderr + result.stdout
