"""Plan-extension requests over real HTTP (SPEC §3.5): asked by an admin, decided by an
operator; approval moves the period's end and may bring an expired app back."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from botbill.audit.models import AuditEntry
from botbill.auth.keys import Scope
from botbill.extensions.models import ExtensionRequest
from botbill.kit.db import unit_of_work
from botbill.kit.instants import DAY, MINUTE
from botbill.plans.models import Subscription, SubscriptionPeriod
from tests.conftest import Server
from tests.extensions.factories import ask, asked, decide
from tests.factories import auth, error_locs, make_key, problem
from tests.wallet.accounts import (
    Tenant,
    add_funds,
    entitlement,
    funded_app,
    make_enterprise,
    money_state,
    new_app,
    operator_key,
    subscription,
    tenant,
    time_passes,
)


@pytest.fixture
def acme(server: Server) -> Tenant:
    return tenant(server.engine)


@pytest.fixture
def ops(server: Server) -> str:
    return operator_key(server.engine)


def state(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Money, plan state, extension requests and the audit log: what a refusal must not move."""
    snapshot = money_state(engine)
    with unit_of_work(engine, write=False) as session:
        for name, model in (("extension_requests", ExtensionRequest), ("audit", AuditEntry)):
            columns = list(model.__table__.columns)
            rows = session.execute(select(*columns).order_by(columns[0])).all()
            snapshot[name] = [tuple(row) for row in rows]
    return snapshot


def period_ends(engine: Engine, workspace_id: str, app_id: str = "support-bot") -> list[int]:
    """The subscription's period end and every period's end, oldest first."""
    with unit_of_work(engine, write=False) as session:
        row = session.get(Subscription, (workspace_id, app_id))
        assert row is not None
        periods = session.scalars(
            select(SubscriptionPeriod.end)
            .where(
                SubscriptionPeriod.workspace_id == workspace_id,
                SubscriptionPeriod.app_id == app_id,
            )
            .order_by(SubscriptionPeriod.start, SubscriptionPeriod.id)
        )
        return [row.period_end, *periods]


def test_request_then_approve_moves_the_period_end(
    server: Server, http: httpx.Client, acme: Tenant, ops: str
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=20_000)
    assert subscription(http, key=acme.key)["period_end"] == "2026-12-26T12:00:00Z"
    response = ask(http, acme.key, days=14, reason="  our launch slipped  ")
    assert response.status_code == 201, response.text
    request = response.json()
    assert request == {
        "id": request["id"],
        "app_id": "support-bot",
        "days": 14,
        "reason": "our launch slipped",
        "status": "pending",
        "requested_at": "2026-11-26T12:00:00Z",
        "decided_at": None,
        "note": None,
        "period_end_before": None,
        "period_end_after": None,
    }
    listed = http.get("/v1/extension-requests", headers=auth(acme.key)).json()
    assert listed == {"items": [request], "next_cursor": None}

    time_passes(server, 90 * MINUTE)
    response = decide(http, ops, request["id"], approve=True, note="granted once")
    assert response.status_code == 200, response.text
    decided = response.json()
    assert (decided["status"], decided["decided_at"], decided["note"]) == (
        "approved",
        "2026-11-26T13:30:00Z",
        "granted once",
    )
    assert decided["period_end_before"] == "2026-12-26T12:00:00Z"
    assert decided["period_end_after"] == "2027-01-09T12:00:00Z"
    detail = subscription(http, key=acme.key)
    assert (detail["period_end"], detail["status"]) == ("2027-01-09T12:00:00Z", "active")
    ends = period_ends(server.engine, acme.workspace_id)
    assert ends[0] == ends[-1]  # the subscription and its current period agree
    assert (
        http.get(f"/v1/extension-requests/{request['id']}", headers=auth(acme.key)).json()
        == decided
    )


def test_an_approved_fee_plan_renews_at_its_new_end(
    server: Server, http: httpx.Client, acme: Tenant, ops: str
) -> None:
    """The next monthly period starts where the extended one ends (no overlap, no gap)."""
    funded_app(http, server.engine, acme, plan="essential", amount=20_000)
    assert decide(http, ops, asked(http, acme.key, days=10), approve=True).status_code == 200
    time_passes(server, 30 * DAY + 1)  # past the old end, before the new one
    detail = subscription(http, key=acme.key)
    assert (detail["period_start"], detail["period_end"]) == (
        "2026-11-26T12:00:00Z",
        "2027-01-05T12:00:00Z",
    )
    assert detail["balance"]["amount"] == 20_000 - 9_900  # nothing renewed yet
    time_passes(server, 10 * DAY)  # past the new end
    detail = subscription(http, key=acme.key)
    assert (detail["period_start"], detail["period_end"], detail["status"]) == (
        "2027-01-05T12:00:00Z",
        "2027-02-05T12:00:00Z",
        "active",
    )
    assert detail["balance"]["amount"] == 20_000 - 2 * 9_900
    with unit_of_work(server.engine, write=False) as session:
        spans = session.execute(
            select(SubscriptionPeriod.start, SubscriptionPeriod.end).order_by(
                SubscriptionPeriod.start
            )
        ).all()
    assert spans[0][1] == spans[1][0]


def test_reject_leaves_the_period_as_it_was(
    server: Server, http: httpx.Client, acme: Tenant, ops: str
) -> None:
    funded_app(http, server.engine, acme, plan="advanced", amount=60_000)
    ends = period_ends(server.engine, acme.workspace_id)
    request_id = asked(http, acme.key)
    response = decide(http, ops, request_id, approve=False, note="  not this time  ")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["note"], body["period_end_after"]) == (
        "rejected",
        "not this time",
        None,
    )
    assert period_ends(server.engine, acme.workspace_id) == ends
    assert subscription(http, key=acme.key)["period_end"] == "2026-12-26T12:00:00Z"
    # decided: the app may ask again
    assert ask(http, acme.key, days=3, reason="again").status_code == 201


def test_an_expired_app_comes_back(
    server: Server, http: httpx.Client, acme: Tenant, ops: str
) -> None:
    new_app(http, server.engine, acme, plan="essential")
    wire = add_funds(http, key=acme.key, method="wire", token=None, amount=10_000).json()
    assert decide_wire(http, ops, wire["id"]) == 200  # pays the first fee; no card saved
    time_passes(server, 32 * DAY)  # 2026-12-28: the renewal found 100 and no card
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "plan_expired"}
    request_id = asked(http, acme.key, days=5)
    assert entitlement(http, key=acme.key)["reason"] == "plan_expired"  # not before approval
    response = decide(http, ops, request_id, approve=True)
    assert response.status_code == 200, response.text
    assert response.json()["period_end_after"] == "2026-12-31T12:00:00Z"
    assert entitlement(http, key=acme.key) == {"active": True}
    detail = subscription(http, key=acme.key)
    assert (detail["status"], detail["period_end"]) == ("active", "2026-12-31T12:00:00Z")
    assert "renewal_failed" not in [n["type"] for n in detail["notices"]]
    time_passes(server, 3 * DAY)  # the new end passes: the renewal fails again
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "plan_expired"}


def decide_wire(http: httpx.Client, ops: str, order_id: str) -> int:
    return http.post(f"/v1/orders/{order_id}/confirm-payment", headers=auth(ops)).status_code


def test_an_ended_trial_comes_back(
    server: Server, http: httpx.Client, acme: Tenant, ops: str
) -> None:
    new_app(http, server.engine, acme)  # trial: ends 2026-12-10T12:00Z
    time_passes(server, 15 * DAY)
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "trial_expired"}
    assert decide(http, ops, asked(http, acme.key, days=7), approve=True).status_code == 200
    assert entitlement(http, key=acme.key) == {"active": True}
    assert subscription(http, key=acme.key)["period_end"] == "2026-12-17T12:00:00Z"
    time_passes(server, 6 * DAY)  # 2026-12-17T12:00Z
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "trial_expired"}


def test_days_are_local_days(server: Server, http: httpx.Client, ops: str) -> None:
    """Across a DST change the end keeps its local wall-clock time."""
    paris = tenant(server.engine, timezone="Europe/Paris")
    time_passes(server, -60 * DAY)  # 2026-09-27, summer time
    new_app(http, server.engine, paris)  # trial to 2026-10-11T14:00+02:00
    assert decide(http, ops, asked(http, paris.key, days=30), approve=True).status_code == 200
    assert subscription(http, key=paris.key)["period_end"] == "2026-11-10T14:00:00+01:00"


def test_an_approval_that_would_end_in_the_past_is_refused(
    server: Server, http: httpx.Client, acme: Tenant, ops: str
) -> None:
    new_app(http, server.engine, acme)
    time_passes(server, 14 * DAY + 1 * DAY)  # trial ended a day ago
    request_id = asked(http, acme.key, days=3)
    time_passes(server, 3 * DAY)  # the operator took too long: 3 days would end yesterday
    before = state(server.engine)
    body = problem(decide(http, ops, request_id, approve=True), 409)
    assert "reject" in body["detail"]
    assert state(server.engine) == before
    assert decide(http, ops, request_id, approve=False).status_code == 200


def test_not_enough_days_or_too_long_ago(server: Server, http: httpx.Client, acme: Tenant) -> None:
    new_app(http, server.engine, acme)
    time_passes(server, 14 * DAY + 2 * DAY + 1)  # trial ended 2 days ago
    before = state(server.engine)
    body = problem(ask(http, acme.key, days=2, reason="x"), 422)
    assert error_locs(body) == [["body", "days"]]
    assert "at least 3" in body["detail"]
    time_passes(server, 30 * DAY)
    body = problem(ask(http, acme.key, days=30, reason="x"), 409)
    assert "choose a plan again" in body["detail"]
    assert state(server.engine) == before


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"days": 0, "reason": "x"}, ["body", "days"]),
        ({"days": 31, "reason": "x"}, ["body", "days"]),
        ({"days": -1, "reason": "x"}, ["body", "days"]),
        ({"days": "14", "reason": "x"}, ["body", "days"]),
        ({"days": 14.0, "reason": "x"}, ["body", "days"]),
        ({"days": True, "reason": "x"}, ["body", "days"]),
        ({"days": None, "reason": "x"}, ["body", "days"]),
        ({"reason": "x"}, ["body", "days"]),
        ({"days": 14, "reason": ""}, ["body", "reason"]),
        ({"days": 14, "reason": "   "}, ["body", "reason"]),
        ({"days": 14, "reason": "x" * 501}, ["body", "reason"]),
        ({"days": 14, "reason": "a\x00b"}, ["body", "reason"]),
        ({"days": 14, "reason": 7}, ["body", "reason"]),
        ({"days": 14}, ["body", "reason"]),
        ({"days": 14, "reason": "x", "plan": "advanced"}, ["body", "plan"]),
    ],
)
def test_bad_requests_are_422_and_change_nothing(
    server: Server, http: httpx.Client, acme: Tenant, body: dict[str, Any], loc: list[str]
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=10_000)
    before = state(server.engine)
    response = http.post(
        "/v1/apps/support-bot/extension-requests", json=body, headers=auth(acme.key)
    )
    assert error_locs(problem(response, 422)) == [loc]
    assert state(server.engine) == before


def test_a_reason_of_500_characters_is_fine(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=10_000)
    response = ask(http, acme.key, days=30, reason=" " + "x" * 500 + " ")
    assert response.status_code == 201, response.text
    assert response.json()["reason"] == "x" * 500


def test_one_pending_request_per_app(
    server: Server, http: httpx.Client, acme: Tenant, ops: str
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=10_000)
    funded_app(http, server.engine, acme, app_id="sales-bot", plan="essential", amount=10_000)
    first = asked(http, acme.key)
    before = state(server.engine)
    body = problem(ask(http, acme.key, days=3, reason="more"), 409)
    assert first in body["detail"]
    assert state(server.engine) == before
    assert ask(http, acme.key, "sales-bot", days=3, reason="other app").status_code == 201
    assert decide(http, ops, first, approve=True).status_code == 200
    assert ask(http, acme.key, days=3, reason="after the decision").status_code == 201


def test_deciding_twice_is_409(server: Server, http: httpx.Client, acme: Tenant, ops: str) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=10_000)
    request_id = asked(http, acme.key)
    assert decide(http, ops, request_id, approve=True).status_code == 200
    before = state(server.engine)
    for approve in (True, False):
        body = problem(decide(http, ops, request_id, approve=approve), 409)
        assert "already approved" in body["detail"]
    assert state(server.engine) == before
    assert subscription(http, key=acme.key)["period_end"] == "2027-01-09T12:00:00Z"  # once


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "approve"]),
        ({"approve": "yes"}, ["body", "approve"]),
        ({"approve": 1}, ["body", "approve"]),
        ({"approve": None}, ["body", "approve"]),
        ({"approve": True, "note": "x" * 501}, ["body", "note"]),
        ({"approve": True, "note": 5}, ["body", "note"]),
        ({"approve": True, "days": 30}, ["body", "days"]),
    ],
)
def test_bad_decisions_are_422_and_change_nothing(
    server: Server,
    http: httpx.Client,
    acme: Tenant,
    ops: str,
    body: dict[str, Any],
    loc: list[str],
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=10_000)
    request_id = asked(http, acme.key)
    before = state(server.engine)
    assert error_locs(problem(decide(http, ops, request_id, **body), 422)) == [loc]
    assert state(server.engine) == before


def test_who_may_ask_and_decide(server: Server, http: httpx.Client, acme: Tenant, ops: str) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=10_000)
    reader = make_key(server.engine, workspace_id=acme.workspace_id, scopes=[Scope.READ])
    before = state(server.engine)
    problem(ask(http, reader, days=3, reason="x"), 403)
    problem(http.post("/v1/apps/support-bot/extension-requests", json={"days": 3}), 401)
    problem(ask(http, ops, days=3, reason="x"), 401)  # operator keys open no workspace
    assert state(server.engine) == before
    request_id = asked(http, acme.key)
    before = state(server.engine)
    problem(decide(http, acme.key, request_id, approve=True), 403)
    problem(decide(http, reader, request_id, approve=True), 403)
    problem(decide(http, "bbop_forged", request_id, approve=True), 401)
    problem(http.post(f"/v1/extension-requests/{request_id}/decision", json={}), 401)
    assert state(server.engine) == before
    listed = http.get("/v1/extension-requests", headers=auth(reader))
    assert [r["id"] for r in listed.json()["items"]] == [request_id]


def test_unknown_and_other_workspaces_ids_are_404(
    server: Server, http: httpx.Client, acme: Tenant, ops: str
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=10_000)
    them = tenant(server.engine, name="Them")
    funded_app(http, server.engine, them, app_id="their-bot", plan="essential", amount=10_000)
    theirs = asked(http, them.key, "their-bot")
    before = state(server.engine)
    problem(ask(http, acme.key, "their-bot", days=3, reason="x"), 404)
    problem(ask(http, acme.key, "no-such-bot", days=3, reason="x"), 404)
    problem(http.get(f"/v1/extension-requests/{theirs}", headers=auth(acme.key)), 404)
    problem(http.get("/v1/extension-requests/ext_nonesuch", headers=auth(acme.key)), 404)
    problem(http.get("/v1/extension-requests?app_id=their-bot", headers=auth(acme.key)), 404)
    problem(decide(http, ops, "ext_nonesuch", approve=True), 404)
    assert http.get("/v1/extension-requests", headers=auth(acme.key)).json()["items"] == []
    assert state(server.engine) == before


def test_plans_that_take_no_extension(server: Server, http: httpx.Client, acme: Tenant) -> None:
    funded_app(http, server.engine, acme, plan="standard", amount=10_000)
    before = state(server.engine)
    assert "pay-as-you-go" in problem(ask(http, acme.key, days=3, reason="x"), 403)["detail"]
    make_enterprise(server.engine, acme.workspace_id)
    assert "enterprise" in problem(ask(http, acme.key, days=3, reason="x"), 403)["detail"]
    assert state(server.engine) == before


def test_an_app_gone_pay_as_you_go_cannot_be_approved(
    server: Server, http: httpx.Client, acme: Tenant, ops: str
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=30_000)
    request_id = asked(http, acme.key)
    change = http.post(
        "/v1/apps/support-bot/subscription/change",
        json={"plan": "standard"},
        headers=auth(acme.key),
    )
    assert change.status_code == 202
    time_passes(server, 31 * DAY)  # the downgrade happened
    before = state(server.engine)
    assert "pay-as-you-go" in problem(decide(http, ops, request_id, approve=True), 409)["detail"]
    assert state(server.engine) == before


def test_list_filters_and_pages(server: Server, http: httpx.Client, acme: Tenant, ops: str) -> None:
    for app_id in ("a-bot", "b-bot", "c-bot"):
        funded_app(http, server.engine, acme, app_id=app_id, plan="essential", amount=10_000)
    ids = []
    for app_id in ("a-bot", "b-bot", "c-bot"):
        ids.append(asked(http, acme.key, app_id))
        time_passes(server, MINUTE)
    assert decide(http, ops, ids[1], approve=False).status_code == 200

    def listed(**query: Any) -> dict[str, Any]:
        response = http.get("/v1/extension-requests", params=query, headers=auth(acme.key))
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    first = listed(limit=2)
    second = listed(limit=2, cursor=first["next_cursor"])
    assert [r["id"] for r in first["items"] + second["items"]] == ids[::-1]  # newest first
    assert second["next_cursor"] is None
    assert [r["id"] for r in listed(status="pending")["items"]] == [ids[2], ids[0]]
    assert [r["id"] for r in listed(status="rejected")["items"]] == [ids[1]]
    assert listed(status="approved")["items"] == []
    assert [r["id"] for r in listed(app_id="a-bot")["items"]] == [ids[0]]
    assert listed(app_id="b-bot", status="pending")["items"] == []
    for query, loc in (
        ({"status": "done"}, ["query", "status"]),
        ({"limit": 0}, ["query", "limit"]),
        ({"cursor": "nonsense"}, ["query", "cursor"]),
    ):
        response = http.get("/v1/extension-requests", params=query, headers=auth(acme.key))
        assert error_locs(problem(response, 422)) == [loc]
    # operators see every workspace's queue
    them = tenant(server.engine, name="Them")
    funded_app(http, server.engine, them, app_id="their-bot", plan="essential", amount=10_000)
    theirs = asked(http, them.key, "their-bot")
    queue = http.get("/v1/operator/extension-requests?status=pending", headers=auth(ops)).json()
    assert [r["id"] for r in queue["items"]] == [theirs, ids[2], ids[0]]
    only = http.get(
        "/v1/operator/extension-requests",
        params={"workspace_id": them.workspace_id},
        headers=auth(ops),
    ).json()
    assert [r["id"] for r in only["items"]] == [theirs]
    problem(http.get("/v1/operator/extension-requests", headers=auth(acme.key)), 403)


def test_the_plan_list_shows_extension_notices(
    server: Server, http: httpx.Client, acme: Tenant, ops: str
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=20_000)
    request_id = asked(http, acme.key)

    def types() -> list[str]:
        listed = http.get("/v1/subscriptions", headers=auth(acme.key)).json()["items"][0]
        detail = subscription(http, key=acme.key)
        assert [n["type"] for n in listed["notices"]] == [n["type"] for n in detail["notices"]]
        return [n["type"] for n in detail["notices"]]

    assert "extension_requested" in types()
    assert decide(http, ops, request_id, approve=True).status_code == 200
    assert "extension_approved" in types()
    time_passes(server, 7 * DAY)
    assert not {"extension_requested", "extension_approved"} & set(types())


def test_concurrent_requests_give_one_pending(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=10_000)

    def one(n: int) -> int:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            return ask(client, acme.key, days=n, reason=f"try {n}").status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = sorted(pool.map(one, range(1, 7)))
    assert codes == [201, 409, 409, 409, 409, 409]
    with unit_of_work(server.engine, write=False) as session:
        assert len(session.scalars(select(ExtensionRequest)).all()) == 1
