"""The audit log (SPEC §6): every admin or operator action, who, what, when, before, after."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from botbill.audit.models import AuditEntry
from botbill.audit.service import Action, Actor, record
from botbill.auth.keys import Scope
from botbill.kit.db import unit_of_work
from botbill.kit.instants import MINUTE
from tests.audit.factories import key_id, log
from tests.conftest import Server
from tests.extensions.factories import asked, decide
from tests.factories import auth, error_locs, make_key, make_member, problem, run_botbill
from tests.wallet.accounts import Tenant, add_funds, funded_app, operator_key, tenant


@pytest.fixture
def acme(server: Server) -> Tenant:
    return tenant(server.engine)


def brief(entry: dict[str, Any]) -> tuple[str, str, Any, Any]:
    return entry["action"], entry["target"], entry["before"], entry["after"]


def test_apps_and_owners(server: Server, http: httpx.Client, acme: Tenant) -> None:
    make_member(http, key=acme.key, email="ana@acme.example", role="admin")
    make_member(http, key=acme.key, email="dev@acme.example", role="developer")
    body = {"id": "support-bot", "name": "Support", "owner_email": "ana@acme.example"}
    assert http.post("/v1/apps", json=body, headers=auth(acme.key)).status_code == 201
    server.clock.advance(MINUTE)
    patch = {"name": "Support Bot", "idle_timeout_minutes": 30}
    assert http.patch("/v1/apps/support-bot", json=patch, headers=auth(acme.key)).is_success
    owner = {"email": "dev@acme.example"}
    assert http.put("/v1/apps/support-bot/owner", json=owner, headers=auth(acme.key)).is_success

    entries = log(http, acme.key, target="app:support-bot")
    assert [brief(e) for e in entries] == [
        (
            "app.owner_changed",
            "app:support-bot",
            {"owner_email": "ana@acme.example"},
            {"owner_email": "dev@acme.example"},
        ),
        (
            "app.updated",
            "app:support-bot",
            {"idle_timeout_minutes": 15, "name": "Support"},
            {"idle_timeout_minutes": 30, "name": "Support Bot"},
        ),
        (
            "app.created",
            "app:support-bot",
            None,
            {
                "id": "support-bot",
                "name": "Support",
                "owner_email": "ana@acme.example",
                "idle_timeout_minutes": 15,
                "plan": "trial",
            },
        ),
    ]
    assert entries[0]["actor"] == {"kind": "admin", "id": key_id(server, acme)}
    assert entries[0]["at"] == "2026-11-26T12:01:00Z"
    assert entries[2]["at"] == "2026-11-26T12:00:00Z"


def test_members(server: Server, http: httpx.Client, acme: Tenant) -> None:
    make_member(http, key=acme.key, email="ana@acme.example", role="admin", name="Ana")
    role = {"role": "shared"}
    assert http.patch("/v1/members/ana@acme.example", json=role, headers=auth(acme.key)).is_success
    assert http.delete("/v1/members/ana@acme.example", headers=auth(acme.key)).is_success
    assert [brief(e) for e in log(http, acme.key)] == [
        (
            "member.removed",
            "member:ana@acme.example",
            {"email": "ana@acme.example", "name": "Ana", "role": "shared"},
            None,
        ),
        ("member.role_changed", "member:ana@acme.example", {"role": "admin"}, {"role": "shared"}),
        (
            "member.added",
            "member:ana@acme.example",
            None,
            {"email": "ana@acme.example", "name": "Ana", "role": "admin"},
        ),
    ]


def test_refused_actions_leave_no_entry(server: Server, http: httpx.Client, acme: Tenant) -> None:
    make_member(http, key=acme.key, email="ana@acme.example", role="admin")
    body = {"id": "support-bot", "name": "Support", "owner_email": "ana@acme.example"}
    assert http.post("/v1/apps", json=body, headers=auth(acme.key)).status_code == 201
    before = log(http, acme.key)
    problem(http.delete("/v1/members/ana@acme.example", headers=auth(acme.key)), 409)
    problem(http.post("/v1/apps", json=body, headers=auth(acme.key)), 409)
    bad_owner = {"email": "nobody@acme.example"}
    problem(http.put("/v1/apps/support-bot/owner", json=bad_owner, headers=auth(acme.key)), 422)
    problem(http.patch("/v1/apps/support-bot", json={"name": ""}, headers=auth(acme.key)), 422)
    assert log(http, acme.key) == before


def test_operator_actions(server: Server, http: httpx.Client, acme: Tenant) -> None:
    funded_app(http, server.engine, acme, plan="essential", amount=10_000)
    ops = operator_key(server.engine)
    wire = add_funds(http, key=acme.key, method="wire", token=None, amount=20_000).json()
    server.clock.advance(MINUTE)
    confirmed = http.post(f"/v1/orders/{wire['id']}/confirm-payment", headers=auth(ops))
    assert confirmed.status_code == 200
    request_id = asked(http, acme.key, days=14)
    assert decide(http, ops, request_id, approve=True, note="fine").status_code == 200
    with unit_of_work(server.engine, write=False) as session:
        operator_key_id = session.scalars(
            select(AuditEntry.actor_id).where(AuditEntry.actor_kind == "operator")
        ).first()
    entries = log(http, acme.key)
    assert [e["action"] for e in entries[:3]] == [
        "extension.decided",
        "extension.requested",
        "order.payment_confirmed",
    ]
    decided, requested, paid = entries[:3]
    assert decided["actor"] == {"kind": "operator", "id": operator_key_id}
    assert operator_key_id is not None
    assert operator_key_id.startswith("opk_")
    assert requested["actor"] == {"kind": "admin", "id": key_id(server, acme)}
    assert brief(paid) == (
        "order.payment_confirmed",
        f"order:{wire['id']}",
        {"payment_status": "pending", "paid_at": None},
        {
            "payment_status": "paid",
            "paid_at": "2026-11-26T12:01:00Z",
            "amount": 20_000,
            "currency": "USD",
            "app_id": "support-bot",
        },
    )
    assert brief(requested) == (
        "extension.requested",
        "app:support-bot",
        None,
        {"request_id": request_id, "days": 14, "reason": "launch week", "status": "pending"},
    )
    assert brief(decided) == (
        "extension.decided",
        "app:support-bot",
        {
            "request_id": request_id,
            "status": "pending",
            "period_end": "2026-12-26T12:00:00Z",
            "state": "active",
        },
        {
            "request_id": request_id,
            "status": "approved",
            "period_end": "2027-01-09T12:00:00Z",
            "state": "active",
            "note": "fine",
        },
    )


def test_cli_actions(database_url: str, server: Server, http: httpx.Client, acme: Tenant) -> None:
    funded_app(http, server.engine, acme, plan="standard", amount=10_000)
    granted = run_botbill(
        "operator",
        "credit",
        "grant",
        "--workspace",
        acme.workspace_id,
        "--app",
        "support-bot",
        "--amount",
        "5000",
        "--days",
        "10",
        database_url=database_url,
    )
    assert granted.returncode == 0, granted.stderr
    entry_id = json.loads(granted.stdout)["entry_id"]
    (credit,) = log(http, acme.key, action="credit.granted")
    assert credit["actor"]["kind"] == "cli"
    assert credit["actor"]["id"]
    assert credit["target"] == "app:support-bot"
    assert credit["before"] is None
    assert (credit["after"]["entry_id"], credit["after"]["amount"]) == (entry_id, 5000)
    assert credit["after"]["reason"] == "promotion"

    edited = run_botbill(
        "plan", "catalog", "set", "essential", "--fee", "12000", database_url=database_url
    )
    assert edited.returncode == 0, edited.stderr
    with unit_of_work(server.engine, write=False) as session:
        (row,) = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "catalog.plan_set")
        ).all()
    assert (row.workspace_id, row.actor_kind, row.target) == (None, "cli", "plan:essential")
    assert row.before is not None
    assert row.after is not None
    assert (row.before["fee"], row.after["fee"]) == (9_900, 12_000)
    # platform-wide: in no workspace's log
    assert log(http, acme.key, action="catalog.plan_set") == []


def test_the_log_is_private_to_its_workspace(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    them = tenant(server.engine, name="Them")
    make_member(http, key=acme.key, email="ana@acme.example")
    make_member(http, key=them.key, email="bo@them.example")
    assert [e["target"] for e in log(http, acme.key)] == ["member:ana@acme.example"]
    assert [e["target"] for e in log(http, them.key)] == ["member:bo@them.example"]
    assert log(http, acme.key, target="member:bo@them.example") == []


def test_admin_keys_only(server: Server, http: httpx.Client, acme: Tenant) -> None:
    reader = make_key(server.engine, workspace_id=acme.workspace_id, scopes=[Scope.READ])
    problem(http.get("/v1/audit-log", headers=auth(reader)), 403)
    problem(http.get("/v1/audit-log"), 401)
    problem(http.get("/v1/audit-log", headers=auth(operator_key(server.engine))), 401)


def test_pages_newest_first_and_filters(server: Server, http: httpx.Client, acme: Tenant) -> None:
    for n in range(5):
        make_member(http, key=acme.key, email=f"m{n}@acme.example")
        server.clock.advance(MINUTE)
    role = {"role": "developer"}
    assert http.patch("/v1/members/m2@acme.example", json=role, headers=auth(acme.key)).is_success
    first = http.get("/v1/audit-log?limit=4", headers=auth(acme.key)).json()
    second = http.get(
        "/v1/audit-log", params={"limit": 4, "cursor": first["next_cursor"]}, headers=auth(acme.key)
    ).json()
    assert second["next_cursor"] is None
    targets = [e["target"] for e in first["items"] + second["items"]]
    added = [f"member:m{n}@acme.example" for n in range(4, -1, -1)]
    assert targets == ["member:m2@acme.example", *added]
    assert [e["action"] for e in log(http, acme.key, action="member.role_changed")] == [
        "member.role_changed"
    ]
    assert [e["action"] for e in log(http, acme.key, target="member:m2@acme.example")] == [
        "member.role_changed",
        "member.added",
    ]
    assert log(http, acme.key, action="member.removed") == []
    for query, loc in (
        ({"action": "member.exploded"}, ["query", "action"]),
        ({"target": "x" * 321}, ["query", "target"]),
        ({"cursor": "nonsense"}, ["query", "cursor"]),
        ({"limit": 1001}, ["query", "limit"]),
    ):
        response = http.get("/v1/audit-log", params=query, headers=auth(acme.key))
        assert error_locs(problem(response, 422)) == [loc]


def test_entries_are_append_only(server: Server, acme: Tenant) -> None:
    with unit_of_work(server.engine, write=True) as session:
        entry = record(
            session,
            workspace_id=acme.workspace_id,
            actor=Actor.admin("key_x"),
            action=Action.FUNDS_ADDED,
            target="app:support-bot",
            before={"balance": 0},
            after={"balance": 100},
            now=server.clock.now(),
        )
    with pytest.raises(RuntimeError, match="append-only"):
        tamper(server.engine, entry.id)
    with pytest.raises(RuntimeError, match="append-only"):
        erase(server.engine, entry.id)
    with unit_of_work(server.engine, write=False) as session:
        stored = session.get(AuditEntry, entry.id)
        assert stored is not None
        assert stored.after == {"balance": 100}


def tamper(engine: Engine, entry_id: int) -> None:
    with unit_of_work(engine, write=True) as session:
        stored = session.get(AuditEntry, entry_id)
        assert stored is not None
        stored.after = {"balance": 1_000_000}


def erase(engine: Engine, entry_id: int) -> None:
    with unit_of_work(engine, write=True) as session:
        session.delete(session.get(AuditEntry, entry_id))
