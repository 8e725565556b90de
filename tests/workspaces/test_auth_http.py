"""API keys over real HTTP: 401 without a live key, 403 outside the key's scopes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from botbill.auth.keys import Scope
from botbill.auth.models import ApiKey
from botbill.events.models import Event
from botbill.kit.db import unit_of_work
from botbill.workspaces.models import App, Member
from tests.conftest import Server
from tests.factories import (
    T0,
    add_app,
    add_member,
    auth,
    event,
    make_key,
    make_workspace,
    problem,
)


@dataclass(frozen=True)
class Tenant:
    workspace_id: str
    admin: str


@pytest.fixture
def tenant(server: Server) -> Tenant:
    workspace_id, admin = make_workspace(server.engine)
    add_member(server.engine, workspace_id=workspace_id, email="ann@acme.example", role="admin")
    add_member(server.engine, workspace_id=workspace_id, email="bob@acme.example", role="developer")
    add_app(server.engine, workspace_id=workspace_id, app_id="bot", owner_email="ann@acme.example")
    return Tenant(workspace_id, admin)


def snapshot(server: Server) -> dict[str, Any]:
    """Everything a refused call might have changed."""
    with unit_of_work(server.engine, write=False) as session:
        return {
            "apps": [
                (a.workspace_id, a.id, a.name, a.owner_id, a.idle_timeout_minutes, a.plan)
                for a in session.scalars(select(App).order_by(App.id))
            ],
            "members": [
                (m.email, m.role) for m in session.scalars(select(Member).order_by(Member.email))
            ],
            "events": list(session.scalars(select(Event.event_id))),
        }


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: str
    body: Any = None

    def send(self, http: httpx.Client, headers: dict[str, str]) -> httpx.Response:
        return http.request(self.method, self.path, json=self.body, headers=headers)


EVENT = event("conversation.started", at=T0, app="bot", id="e-1", conversation_id="c-1")
CALLS = [
    Call("ingest", "POST", "/v1/events", EVENT),
    Call("list apps", "GET", "/v1/apps"),
    Call("get app", "GET", "/v1/apps/bot"),
    Call("list members", "GET", "/v1/members"),
    Call("create app", "POST", "/v1/apps", {"id": "new-bot", "name": "New"}),
    Call("patch app", "PATCH", "/v1/apps/bot", {"name": "Renamed"}),
    Call("change owner", "PUT", "/v1/apps/bot/owner", {"email": "bob@acme.example"}),
    Call(
        "add member",
        "POST",
        "/v1/members",
        {"email": "c@acme.example", "name": "C", "role": "admin"},
    ),
    Call("change role", "PATCH", "/v1/members/bob@acme.example", {"role": "shared"}),
    Call("remove member", "DELETE", "/v1/members/bob@acme.example"),
]
ALLOWED: dict[str, set[str]] = {
    "ingest": {"ingest"},
    "read": {"list apps", "get app", "list members"},
    "read,ingest": {"ingest", "list apps", "get app", "list members"},
    "admin": {call.name for call in CALLS},
}


@pytest.mark.parametrize(
    ("scopes", "call"),
    [(scopes, call) for scopes in ALLOWED for call in CALLS],
    ids=[f"{scopes}-{call.name}" for scopes in ALLOWED for call in CALLS],
)
def test_scopes(
    server: Server, http: httpx.Client, tenant: Tenant, scopes: str, call: Call
) -> None:
    key = (
        tenant.admin
        if scopes == "admin"
        else make_key(
            server.engine,
            workspace_id=tenant.workspace_id,
            scopes=[Scope(s) for s in scopes.split(",")],
        )
    )
    before = snapshot(server)
    response = call.send(http, auth(key))
    if call.name in ALLOWED[scopes]:
        assert 200 <= response.status_code < 300, response.text
    else:
        body = problem(response, 403)
        assert "scope" in body["detail"]
        assert snapshot(server) == before


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic YWRtaW46YWRtaW4=",
        "Bearer bb_not-a-real-key",
        "Token {key}",
        "{key}",
    ],
    ids=["none", "empty", "bearer only", "basic", "unknown key", "token", "bare"],
)
def test_missing_or_bad_credentials_are_401(
    server: Server, http: httpx.Client, tenant: Tenant, authorization: str | None
) -> None:
    headers = (
        {} if authorization is None else {"Authorization": authorization.format(key=tenant.admin)}
    )
    before = snapshot(server)
    for call in CALLS:
        body = problem(call.send(http, headers), 401)
        assert tenant.admin not in str(body), call.name
    assert snapshot(server) == before


def test_revoked_key_is_401(server: Server, http: httpx.Client, tenant: Tenant) -> None:
    reader = make_key(server.engine, workspace_id=tenant.workspace_id, scopes=[Scope.READ])
    with unit_of_work(server.engine, write=True) as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.scopes == "read")
            .values(revoked_at=datetime(2026, 11, 26, tzinfo=UTC))
        )
    problem(http.get("/v1/apps", headers=auth(reader)), 401)
    problem(http.post("/v1/events", json=EVENT, headers=auth(reader)), 401)
    assert http.get("/v1/apps", headers=auth(tenant.admin)).status_code == 200


def test_scheme_is_case_insensitive(http: httpx.Client, tenant: Tenant) -> None:
    response = http.get("/v1/apps", headers={"Authorization": f"bearer {tenant.admin}"})
    assert response.status_code == 200, response.text


def test_credentials_are_checked_before_the_event_body(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    headers = {"content-type": "application/json"}
    problem(http.post("/v1/events", content=b"{broken", headers=headers), 401)
    problem(http.post("/v1/events", content=b"x" * 2048, headers=headers), 401)
    reader = make_key(server.engine, workspace_id=tenant.workspace_id, scopes=[Scope.READ])
    problem(http.post("/v1/events", content=b"{broken", headers={**headers, **auth(reader)}), 403)


@pytest.mark.parametrize("path", ["/v1/apps", "/v1/members"])
def test_anonymous_malformed_json_is_401_not_a_parse_error(
    http: httpx.Client, tenant: Tenant, path: str
) -> None:
    """401 for no credentials (API.md): an anonymous caller learns nothing about bodies."""
    response = http.post(path, content=b"{broken", headers={"content-type": "application/json"})
    problem(response, 401)


def test_a_key_sees_only_its_workspace(server: Server, http: httpx.Client, tenant: Tenant) -> None:
    _, other = make_workspace(server.engine, name="Other")
    assert http.get("/v1/apps", headers=auth(other)).json() == {"items": [], "next_cursor": None}
    assert http.get("/v1/members", headers=auth(other)).json()["items"] == []
    problem(http.get("/v1/apps/bot", headers=auth(other)), 404)
    response = http.post("/v1/events", json=EVENT, headers=auth(other))
    problem(response, 422)
    assert snapshot(server)["events"] == []
