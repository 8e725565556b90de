"""Members over real HTTP: add, list, change role, remove; isolation between workspaces."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from botbill.kit.db import unit_of_work
from botbill.workspaces.models import Member
from tests.conftest import Server
from tests.factories import (
    T0,
    add_app,
    add_member,
    auth,
    error_locs,
    make_workspace,
    probing_server,
    problem,
)


@dataclass(frozen=True)
class Tenant:
    workspace_id: str
    key: str


@pytest.fixture
def tenant(server: Server) -> Tenant:
    return Tenant(*make_workspace(server.engine))


@pytest.fixture
def them(server: Server) -> Tenant:
    """Another workspace with a member ``ann@acme.example`` (an address ours may use too)."""
    workspace_id, key = make_workspace(server.engine, name="Them")
    add_member(server.engine, workspace_id=workspace_id, email="ann@acme.example", role="owner")
    return Tenant(workspace_id, key)


def members(server: Server, workspace_id: str) -> dict[str, str]:
    """email → role of a workspace's members, from the database."""
    with unit_of_work(server.engine, write=False) as session:
        rows = session.execute(
            select(Member.email, Member.role).where(Member.workspace_id == workspace_id)
        )
        return dict(rows.all())


def post_member(http: httpx.Client, key: str, body: Any) -> httpx.Response:
    return http.post("/v1/members", json=body, headers=auth(key))


# -- add ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "developer", "shared"])
def test_add_member_with_each_role(
    server: Server, http: httpx.Client, tenant: Tenant, role: str
) -> None:
    response = post_member(
        http, tenant.key, {"email": "  Ann.Lee@Acme.EXAMPLE ", "name": " Ann Lee ", "role": role}
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert datetime.fromisoformat(created.pop("created_at")) == T0
    assert created.pop("invitation_url").startswith(f"{server.url}/console/invitation/mem_")
    assert created == {
        "email": "ann.lee@acme.example",
        "name": "Ann Lee",
        "role": role,
        "has_password": False,
    }
    assert members(server, tenant.workspace_id) == {"ann.lee@acme.example": role}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"email": "a@acme.example", "name": "A", "role": "operator"}, ["body", "role"]),
        ({"email": "a@acme.example", "name": "A", "role": "Admin"}, ["body", "role"]),
        ({"email": "a@acme.example", "name": "A", "role": ""}, ["body", "role"]),
        ({"email": "a@acme.example", "name": "A"}, ["body", "role"]),
        ({"email": "not-an-email", "name": "A", "role": "admin"}, ["body", "email"]),
        ({"email": "a@b", "name": "A", "role": "admin"}, ["body", "email"]),
        ({"email": "a b@acme.example", "name": "A", "role": "admin"}, ["body", "email"]),
        ({"email": "x" * 250 + "@a.io", "name": "A", "role": "admin"}, ["body", "email"]),
        ({"name": "A", "role": "admin"}, ["body", "email"]),
        ({"email": "a@acme.example", "name": "", "role": "admin"}, ["body", "name"]),
        ({"email": "a@acme.example", "name": "  ", "role": "admin"}, ["body", "name"]),
        ({"email": "a@acme.example", "role": "admin"}, ["body", "name"]),
        ({"email": "a@acme.example", "name": "A\x00", "role": "admin"}, ["body", "name"]),
        ({"email": "a\x00@acme.example", "name": "A", "role": "admin"}, ["body", "email"]),
        (
            {"email": "a@acme.example", "name": "A", "role": "admin", "password": "x"},
            ["body", "password"],
        ),
    ],
    ids=[
        "role operator",
        "role capitalized",
        "role empty",
        "role missing",
        "email without @",
        "email without dot",
        "email with space",
        "email too long",
        "email missing",
        "name empty",
        "name blank",
        "name missing",
        "name with NUL",
        "email with NUL",
        "unknown field",
    ],
)
def test_bad_member_is_422_and_not_added(
    server: Server, http: httpx.Client, tenant: Tenant, body: dict[str, Any], loc: list[str]
) -> None:
    assert loc in error_locs(problem(post_member(http, tenant.key, body), 422))
    assert members(server, tenant.workspace_id) == {}


def test_duplicate_member_is_409_and_changes_nothing(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    add_member(
        server.engine, workspace_id=tenant.workspace_id, email="ann@acme.example", role="developer"
    )
    response = post_member(
        http, tenant.key, {"email": "ANN@acme.example", "name": "Other Ann", "role": "owner"}
    )
    assert "ann@acme.example" in problem(response, 409)["detail"]
    assert members(server, tenant.workspace_id) == {"ann@acme.example": "developer"}


def test_same_email_in_another_workspace_is_fine(
    server: Server, http: httpx.Client, tenant: Tenant, them: Tenant
) -> None:
    response = post_member(
        http, tenant.key, {"email": "ann@acme.example", "name": "Ann", "role": "shared"}
    )
    assert response.status_code == 201, response.text
    assert members(server, tenant.workspace_id) == {"ann@acme.example": "shared"}
    assert members(server, them.workspace_id) == {"ann@acme.example": "owner"}


def test_concurrent_adds_of_one_email_give_one_201_and_409s(server: Server, tenant: Tenant) -> None:
    def add(n: int) -> int:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            body = {"email": "ann@acme.example", "name": f"Ann {n}", "role": "admin"}
            return post_member(client, tenant.key, body).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(add, range(6)))
    assert statuses == [201, 409, 409, 409, 409, 409]
    assert list(members(server, tenant.workspace_id)) == ["ann@acme.example"]


# -- list --------------------------------------------------------------------------------


def test_list_pages_through_members_by_email(
    server: Server, http: httpx.Client, tenant: Tenant, them: Tenant
) -> None:
    emails = ["d@acme.example", "b@acme.example", "a@acme.example", "c@acme.example"]
    for email in emails:
        add_member(server.engine, workspace_id=tenant.workspace_id, email=email, role="developer")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        response = http.get("/v1/members", params=params, headers=auth(tenant.key))
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        seen += [item["email"] for item in page["items"]]
        assert all(item["role"] == "developer" for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(emails)
    assert pages == 2


def test_list_is_empty_for_a_new_workspace(http: httpx.Client, tenant: Tenant) -> None:
    response = http.get("/v1/members", headers=auth(tenant.key))
    assert response.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"limit": "0"}, ["query", "limit"]),
        ({"limit": "1001"}, ["query", "limit"]),
        ({"cursor": "not a cursor"}, ["query", "cursor"]),
        ({"cursor": "WzEsMl0"}, ["query", "cursor"]),
        ({"cursor": "WyJcdTAwMDAiXQ"}, ["query", "cursor"]),
    ],
    ids=["limit 0", "limit 1001", "junk cursor", "cursor of two", "cursor with NUL"],
)
def test_list_bad_query_is_422(
    http: httpx.Client, tenant: Tenant, params: dict[str, str], loc: list[str]
) -> None:
    response = http.get("/v1/members", params=params, headers=auth(tenant.key))
    assert loc in error_locs(problem(response, 422))


# -- role changes ------------------------------------------------------------------------


def test_change_role(server: Server, http: httpx.Client, tenant: Tenant) -> None:
    add_member(
        server.engine, workspace_id=tenant.workspace_id, email="ann@acme.example", role="shared"
    )
    response = http.patch(
        "/v1/members/Ann@Acme.example", json={"role": "admin"}, headers=auth(tenant.key)
    )
    assert response.status_code == 200, response.text
    assert (response.json()["email"], response.json()["role"]) == ("ann@acme.example", "admin")
    assert members(server, tenant.workspace_id) == {"ann@acme.example": "admin"}


def test_email_with_plus_in_the_path(server: Server, http: httpx.Client, tenant: Tenant) -> None:
    add_member(
        server.engine, workspace_id=tenant.workspace_id, email="ann+ops@acme.example", role="admin"
    )
    response = http.patch(
        "/v1/members/ann%2Bops@acme.example", json={"role": "developer"}, headers=auth(tenant.key)
    )
    assert response.status_code == 200, response.text
    assert members(server, tenant.workspace_id) == {"ann+ops@acme.example": "developer"}


@pytest.mark.parametrize(
    "body", [{"role": "operator"}, {"role": None}, {}, {"role": "admin", "email": "x@y.io"}]
)
def test_bad_role_change_is_422_and_changes_nothing(
    server: Server, http: httpx.Client, tenant: Tenant, body: dict[str, Any]
) -> None:
    add_member(
        server.engine, workspace_id=tenant.workspace_id, email="ann@acme.example", role="shared"
    )
    response = http.patch("/v1/members/ann@acme.example", json=body, headers=auth(tenant.key))
    problem(response, 422)
    assert members(server, tenant.workspace_id) == {"ann@acme.example": "shared"}


def test_app_owner_cannot_become_shared(server: Server, http: httpx.Client, tenant: Tenant) -> None:
    add_member(
        server.engine, workspace_id=tenant.workspace_id, email="ann@acme.example", role="developer"
    )
    add_app(
        server.engine,
        workspace_id=tenant.workspace_id,
        app_id="bot",
        owner_email="ann@acme.example",
    )
    response = http.patch(
        "/v1/members/ann@acme.example", json={"role": "shared"}, headers=auth(tenant.key)
    )
    problem(response, 409)
    assert members(server, tenant.workspace_id) == {"ann@acme.example": "developer"}
    promoted = http.patch(
        "/v1/members/ann@acme.example", json={"role": "admin"}, headers=auth(tenant.key)
    )
    assert promoted.status_code == 200, promoted.text


@pytest.mark.parametrize("email", ["x@acme.example", "x%00@acme.example", "not-an-email"])
def test_unknown_member_is_404(http: httpx.Client, tenant: Tenant, email: str) -> None:
    headers = auth(tenant.key)
    problem(http.patch(f"/v1/members/{email}", json={"role": "admin"}, headers=headers), 404)
    problem(http.delete(f"/v1/members/{email}", headers=headers), 404)


# -- removal -----------------------------------------------------------------------------


def test_remove_member(server: Server, http: httpx.Client, tenant: Tenant) -> None:
    for email in ("ann@acme.example", "bob@acme.example"):
        add_member(server.engine, workspace_id=tenant.workspace_id, email=email, role="admin")
    response = http.delete("/v1/members/ANN@acme.example", headers=auth(tenant.key))
    assert response.status_code == 204
    assert response.content == b""
    assert members(server, tenant.workspace_id) == {"bob@acme.example": "admin"}
    listed = http.get("/v1/members", headers=auth(tenant.key)).json()
    assert [item["email"] for item in listed["items"]] == ["bob@acme.example"]
    problem(http.delete("/v1/members/ann@acme.example", headers=auth(tenant.key)), 404)


def test_app_owner_cannot_be_removed_until_the_app_moves(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    for email in ("ann@acme.example", "bob@acme.example"):
        add_member(server.engine, workspace_id=tenant.workspace_id, email=email, role="admin")
    add_app(
        server.engine,
        workspace_id=tenant.workspace_id,
        app_id="bot",
        owner_email="ann@acme.example",
    )
    refused = http.delete("/v1/members/ann@acme.example", headers=auth(tenant.key))
    assert "ann@acme.example" in problem(refused, 409)["detail"]
    assert set(members(server, tenant.workspace_id)) == {"ann@acme.example", "bob@acme.example"}
    app = http.get("/v1/apps/bot", headers=auth(tenant.key)).json()
    assert app["owner_email"] == "ann@acme.example"

    moved = http.put(
        "/v1/apps/bot/owner", json={"email": "bob@acme.example"}, headers=auth(tenant.key)
    )
    assert moved.status_code == 200, moved.text
    assert http.delete("/v1/members/ann@acme.example", headers=auth(tenant.key)).status_code == 204
    assert set(members(server, tenant.workspace_id)) == {"bob@acme.example"}


def test_another_workspaces_member_cannot_be_touched(
    server: Server, http: httpx.Client, tenant: Tenant, them: Tenant
) -> None:
    headers = auth(tenant.key)
    problem(
        http.patch("/v1/members/ann@acme.example", json={"role": "shared"}, headers=headers), 404
    )
    problem(http.delete("/v1/members/ann@acme.example", headers=headers), 404)
    assert members(server, them.workspace_id) == {"ann@acme.example": "owner"}
    assert http.get("/v1/members", headers=headers).json()["items"] == []


def test_a_member_write_is_committed_before_its_response(
    server: Server, database_url: str, tenant: Tenant
) -> None:
    with (
        probing_server(database_url, lambda: members(server, tenant.workspace_id)) as (url, seen),
        httpx.Client(base_url=url) as client,
    ):
        body = {"email": "ann@acme.example", "name": "Ann", "role": "admin"}
        assert client.post("/v1/members", json=body, headers=auth(tenant.key)).status_code == 201
        changed = client.patch(
            "/v1/members/ann@acme.example", json={"role": "shared"}, headers=auth(tenant.key)
        )
        assert changed.status_code == 200
        removed = client.delete("/v1/members/ann@acme.example", headers=auth(tenant.key))
        assert removed.status_code == 204
    assert seen == [{"ann@acme.example": "admin"}, {"ann@acme.example": "shared"}, {}]
