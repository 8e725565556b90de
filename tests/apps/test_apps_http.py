"""Apps over real HTTP: create, list, read, settings, owner; isolation between workspaces."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from botbill.kit.db import unit_of_work
from botbill.workspaces.models import App, Member, Workspace
from tests.conftest import Server
from tests.factories import (
    T0,
    add_app,
    add_member,
    auth,
    error_locs,
    make_app,
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
    """Another workspace, with an app ``their-bot`` and an admin ``boss@them.example``."""
    workspace_id, key = make_workspace(server.engine, name="Them")
    add_member(server.engine, workspace_id=workspace_id, email="boss@them.example", role="admin")
    add_app(server.engine, workspace_id=workspace_id, app_id="their-bot", name="Theirs")
    return Tenant(workspace_id, key)


@dataclass(frozen=True)
class AppRow:
    workspace_id: str
    id: str
    name: str
    owner_email: str | None
    idle_timeout_minutes: int
    plan: str


def app_rows(server: Server) -> list[AppRow]:
    with unit_of_work(server.engine, write=False) as session:
        emails = dict(session.execute(select(Member.id, Member.email)).all())
        return [
            AppRow(
                app.workspace_id,
                app.id,
                app.name,
                emails.get(app.owner_id) if app.owner_id else None,
                app.idle_timeout_minutes,
                app.plan,
            )
            for app in session.scalars(select(App).order_by(App.workspace_id, App.id))
        ]


def post_app(http: httpx.Client, key: str, body: Any) -> httpx.Response:
    return http.post("/v1/apps", json=body, headers=auth(key))


# -- create ------------------------------------------------------------------------------


def test_create_with_every_field(server: Server, http: httpx.Client, tenant: Tenant) -> None:
    add_member(
        server.engine, workspace_id=tenant.workspace_id, email="dev@acme.example", role="developer"
    )
    response = post_app(
        http,
        tenant.key,
        {
            "id": "support-bot",
            "name": "Support Bot",
            "owner_email": "Dev@Acme.Example",
            "idle_timeout_minutes": 30,
            "plan": "standard",
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert datetime.fromisoformat(created.pop("created_at")) == T0
    assert created == {
        "id": "support-bot",
        "name": "Support Bot",
        "owner_email": "dev@acme.example",
        "idle_timeout_minutes": 30,
        "plan": "standard",
    }
    assert app_rows(server) == [
        AppRow(
            tenant.workspace_id, "support-bot", "Support Bot", "dev@acme.example", 30, "standard"
        )
    ]
    fetched = http.get("/v1/apps/support-bot", headers=auth(tenant.key)).json()
    assert fetched == response.json()


def test_create_with_defaults_generates_an_id(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    first = post_app(http, tenant.key, {"name": "  Sales Bot  "})
    second = post_app(http, tenant.key, {"name": "Sales Bot"})
    assert first.status_code == second.status_code == 201
    one, two = first.json(), second.json()
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", one["id"])
    assert one["id"] != two["id"]
    assert (one["name"], one["plan"], one["idle_timeout_minutes"], one["owner_email"]) == (
        "Sales Bot",
        "trial",
        15,
        None,
    )
    assert {row.id for row in app_rows(server)} == {one["id"], two["id"]}


@pytest.mark.parametrize("app_id", ["a", "A_b-9", "x" * 64])
def test_valid_ids(server: Server, http: httpx.Client, tenant: Tenant, app_id: str) -> None:
    response = post_app(http, tenant.key, {"id": app_id, "name": "Bot"})
    assert response.status_code == 201, response.text
    assert response.json()["id"] == app_id
    assert http.get(f"/v1/apps/{app_id}", headers=auth(tenant.key)).status_code == 200


@pytest.mark.parametrize(
    "app_id", ["", "x" * 65, "has space", "dot.ted", "ünï", "semi;colon", "new\nline", 42]
)
def test_invalid_ids_are_refused(
    server: Server, http: httpx.Client, tenant: Tenant, app_id: object
) -> None:
    body = problem(post_app(http, tenant.key, {"id": app_id, "name": "Bot"}), 422)
    assert ["body", "id"] in error_locs(body)
    assert app_rows(server) == []


def test_duplicate_id_is_409_and_changes_nothing(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    make_app(http, key=tenant.key, app_id="support-bot", name="Original", idle_timeout_minutes=20)
    response = post_app(
        http, tenant.key, {"id": "support-bot", "name": "Impostor", "idle_timeout_minutes": 60}
    )
    assert "support-bot" in problem(response, 409)["detail"]
    assert app_rows(server) == [
        AppRow(tenant.workspace_id, "support-bot", "Original", None, 20, "trial")
    ]


def test_same_id_in_another_workspace_is_fine(
    server: Server, http: httpx.Client, tenant: Tenant, them: Tenant
) -> None:
    response = post_app(http, tenant.key, {"id": "their-bot", "name": "Mine"})
    assert response.status_code == 201, response.text
    names = {(row.workspace_id, row.name) for row in app_rows(server)}
    assert names == {(them.workspace_id, "Theirs"), (tenant.workspace_id, "Mine")}


@pytest.mark.parametrize("plan", ["trial", "standard", "essential", "advanced"])
def test_known_plans(server: Server, http: httpx.Client, tenant: Tenant, plan: str) -> None:
    response = post_app(http, tenant.key, {"id": "bot", "name": "Bot", "plan": plan})
    assert response.status_code == 201, response.text
    assert response.json()["plan"] == plan
    assert app_rows(server)[0].plan == plan


@pytest.mark.parametrize("plan", ["gold", "", "TRIAL", 3, ["trial"]])
def test_unknown_plan_is_422(
    server: Server, http: httpx.Client, tenant: Tenant, plan: object
) -> None:
    body = problem(post_app(http, tenant.key, {"id": "bot", "name": "Bot", "plan": plan}), 422)
    assert ["body", "plan"] in error_locs(body)
    assert app_rows(server) == []


def test_null_plan_means_the_default(server: Server, http: httpx.Client, tenant: Tenant) -> None:
    response = post_app(http, tenant.key, {"id": "bot", "name": "Bot", "plan": None})
    assert response.status_code == 201, response.text
    assert response.json()["plan"] == "trial"


def test_enterprise_plan_is_not_for_self_serve_workspaces(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    """SPEC §3.1/§3.5: the enterprise plan comes with an enterprise workspace (operators)."""
    response = post_app(http, tenant.key, {"id": "bot", "name": "Bot", "plan": "enterprise"})
    body = problem(response, 422)
    assert error_locs(body) == [["body", "plan"]]
    assert "enterprise" in body["detail"]
    assert app_rows(server) == []


def test_enterprise_workspace_apps_are_on_the_enterprise_plan(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    with unit_of_work(server.engine, write=True) as session:
        workspace = session.get(Workspace, tenant.workspace_id)
        assert workspace is not None
        workspace.account_type = "enterprise"
    refused = post_app(http, tenant.key, {"id": "bot", "name": "Bot", "plan": "standard"})
    assert error_locs(problem(refused, 422)) == [["body", "plan"]]
    assert app_rows(server) == []
    created = post_app(http, tenant.key, {"id": "bot", "name": "Bot"})
    assert created.status_code == 201, created.text
    assert created.json()["plan"] == "enterprise"


@pytest.mark.parametrize("minutes", [5, 15, 20160])
def test_idle_timeout_in_bounds(
    server: Server, http: httpx.Client, tenant: Tenant, minutes: int
) -> None:
    response = post_app(
        http, tenant.key, {"id": "bot", "name": "B", "idle_timeout_minutes": minutes}
    )
    assert response.status_code == 201, response.text
    assert app_rows(server)[0].idle_timeout_minutes == minutes


@pytest.mark.parametrize("minutes", [4, 0, -15, 20161, 10**12, 15.5, "fifteen", None])
def test_idle_timeout_out_of_bounds(
    server: Server, http: httpx.Client, tenant: Tenant, minutes: object
) -> None:
    response = post_app(
        http, tenant.key, {"id": "bot", "name": "B", "idle_timeout_minutes": minutes}
    )
    assert ["body", "idle_timeout_minutes"] in error_locs(problem(response, 422))
    assert app_rows(server) == []


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"id": "bot"}, ["body", "name"]),
        ({"id": "bot", "name": ""}, ["body", "name"]),
        ({"id": "bot", "name": "   "}, ["body", "name"]),
        ({"id": "bot", "name": "n" * 201}, ["body", "name"]),
        ({"id": "bot", "name": "Bot\x00"}, ["body", "name"]),
        ({"id": "bot", "name": "Bot", "colour": "red"}, ["body", "colour"]),
        ({"id": "bot", "name": "Bot", "owner_email": "not-an-email"}, ["body", "owner_email"]),
    ],
    ids=[
        "name missing",
        "name empty",
        "name blank",
        "name too long",
        "name with NUL",
        "unknown field",
        "bad email",
    ],
)
def test_invalid_bodies(
    server: Server, http: httpx.Client, tenant: Tenant, body: dict[str, Any], loc: list[str]
) -> None:
    assert loc in error_locs(problem(post_app(http, tenant.key, body), 422))
    assert app_rows(server) == []


@pytest.mark.parametrize("content", [b"", b"[]", b'"bot"', b"{not json"])
def test_not_an_object_is_422(
    server: Server, http: httpx.Client, tenant: Tenant, content: bytes
) -> None:
    response = http.post(
        "/v1/apps",
        content=content,
        headers={**auth(tenant.key), "content-type": "application/json"},
    )
    problem(response, 422)
    assert app_rows(server) == []


@pytest.mark.parametrize("role", ["owner", "admin", "developer"])
def test_owner_may_be_any_role_that_owns_apps(
    server: Server, http: httpx.Client, tenant: Tenant, role: str
) -> None:
    add_member(server.engine, workspace_id=tenant.workspace_id, email="p@acme.example", role=role)
    response = post_app(
        http, tenant.key, {"id": "bot", "name": "B", "owner_email": "p@acme.example"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["owner_email"] == "p@acme.example"
    assert app_rows(server)[0].owner_email == "p@acme.example"


@pytest.mark.usefixtures("them")
@pytest.mark.parametrize(
    "email",
    ["shared@acme.example", "nobody@acme.example", "boss@them.example"],
    ids=["shared role", "not a member", "another workspace's member"],
)
def test_owner_who_may_not_own_apps_is_422(
    server: Server, http: httpx.Client, tenant: Tenant, email: str
) -> None:
    add_member(
        server.engine, workspace_id=tenant.workspace_id, email="shared@acme.example", role="shared"
    )
    response = post_app(http, tenant.key, {"id": "bot", "name": "B", "owner_email": email})
    body = problem(response, 422)
    assert error_locs(body) == [["body", "owner_email"]]
    assert email in body["detail"]
    assert [row for row in app_rows(server) if row.workspace_id == tenant.workspace_id] == []


# -- list --------------------------------------------------------------------------------


def test_list_is_empty_at_first(http: httpx.Client, tenant: Tenant) -> None:
    response = http.get("/v1/apps", headers=auth(tenant.key))
    assert response.json() == {"items": [], "next_cursor": None}


def test_list_pages_through_every_app_in_order(
    server: Server, http: httpx.Client, tenant: Tenant, them: Tenant
) -> None:
    ids = ["b-bot", "a-bot", "e-bot", "c-bot", "d-bot"]
    for app_id in ids:
        add_app(server.engine, workspace_id=tenant.workspace_id, app_id=app_id)
    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = http.get("/v1/apps", params=params, headers=auth(tenant.key)).json()
        pages += 1
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids)
    assert pages == 3
    assert "their-bot" not in seen


def test_list_limit_equal_to_count_has_no_next_page(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    for app_id in ("a", "b"):
        add_app(server.engine, workspace_id=tenant.workspace_id, app_id=app_id)
    page = http.get("/v1/apps", params={"limit": 2}, headers=auth(tenant.key)).json()
    assert [item["id"] for item in page["items"]] == ["a", "b"]
    assert page["next_cursor"] is None


def test_list_default_limit_is_50_and_max_is_1000(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    for n in range(51):
        add_app(server.engine, workspace_id=tenant.workspace_id, app_id=f"bot-{n:03d}")
    first = http.get("/v1/apps", headers=auth(tenant.key)).json()
    assert len(first["items"]) == 50
    assert first["next_cursor"] is not None
    rest = http.get("/v1/apps", params={"cursor": first["next_cursor"]}, headers=auth(tenant.key))
    assert [item["id"] for item in rest.json()["items"]] == ["bot-050"]
    everything = http.get("/v1/apps", params={"limit": 1000}, headers=auth(tenant.key)).json()
    assert len(everything["items"]) == 51
    assert everything["next_cursor"] is None


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "ten", "1.5"])
def test_list_bad_limit_is_422(http: httpx.Client, tenant: Tenant, limit: str) -> None:
    response = http.get("/v1/apps", params={"limit": limit}, headers=auth(tenant.key))
    assert ["query", "limit"] in error_locs(problem(response, 422))


@pytest.mark.parametrize(
    "cursor",
    ["garbage!", "e30", "WzEsMl0", "bnVsbA", "", "%%%", "W10", "WyJcdTAwMDAiXQ"],
    ids=["junk", "object", "two items", "null", "empty", "percent", "empty list", "NUL"],
)
def test_list_bad_cursor_is_422(http: httpx.Client, tenant: Tenant, cursor: str) -> None:
    response = http.get("/v1/apps", params={"cursor": cursor}, headers=auth(tenant.key))
    assert error_locs(problem(response, 422)) == [["query", "cursor"]]


# -- read, update, owner -----------------------------------------------------------------


def test_unknown_and_foreign_apps_look_the_same(
    http: httpx.Client, tenant: Tenant, them: Tenant
) -> None:
    unknown = problem(http.get("/v1/apps/no-such-bot", headers=auth(tenant.key)), 404)
    foreign = problem(http.get("/v1/apps/their-bot", headers=auth(tenant.key)), 404)
    assert (unknown["type"], unknown["title"]) == (foreign["type"], foreign["title"])
    assert "Theirs" not in str(foreign)
    assert http.get("/v1/apps/their-bot", headers=auth(them.key)).status_code == 200


def test_patch_name_and_idle_timeout(server: Server, http: httpx.Client, tenant: Tenant) -> None:
    make_app(http, key=tenant.key, app_id="bot", name="Old", idle_timeout_minutes=15)
    response = http.patch(
        "/v1/apps/bot", json={"name": "New", "idle_timeout_minutes": 60}, headers=auth(tenant.key)
    )
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["idle_timeout_minutes"]) == ("New", 60)
    assert app_rows(server) == [AppRow(tenant.workspace_id, "bot", "New", None, 60, "trial")]
    only_name = http.patch("/v1/apps/bot", json={"name": "Newer"}, headers=auth(tenant.key))
    assert only_name.json()["idle_timeout_minutes"] == 60
    assert app_rows(server)[0].name == "Newer"
    nothing = http.patch("/v1/apps/bot", json={}, headers=auth(tenant.key))
    assert nothing.status_code == 200
    assert app_rows(server) == [AppRow(tenant.workspace_id, "bot", "Newer", None, 60, "trial")]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"idle_timeout_minutes": 4}, ["body", "idle_timeout_minutes"]),
        ({"idle_timeout_minutes": 20161}, ["body", "idle_timeout_minutes"]),
        ({"name": ""}, ["body", "name"]),
        ({"name": "New", "plan": "advanced"}, ["body", "plan"]),
        ({"name": "New", "id": "renamed"}, ["body", "id"]),
        ({"name": "New", "owner_email": "x@acme.example"}, ["body", "owner_email"]),
    ],
    ids=["timeout 4", "timeout 20161", "name empty", "plan", "id", "owner"],
)
def test_invalid_patch_changes_nothing(
    server: Server, http: httpx.Client, tenant: Tenant, body: dict[str, Any], loc: list[str]
) -> None:
    add_app(server.engine, workspace_id=tenant.workspace_id, app_id="bot", name="Old")
    before = app_rows(server)
    response = http.patch("/v1/apps/bot", json=body, headers=auth(tenant.key))
    assert loc in error_locs(problem(response, 422))
    assert app_rows(server) == before


def test_patch_unknown_app_is_404(http: httpx.Client, tenant: Tenant) -> None:
    problem(http.patch("/v1/apps/ghost", json={"name": "X"}, headers=auth(tenant.key)), 404)


@pytest.mark.parametrize("app_id", ["a%00b", "%00", "x" * 300, "a%20b", "%C3%A9"])
def test_ids_that_cannot_exist_are_404(http: httpx.Client, tenant: Tenant, app_id: str) -> None:
    headers = auth(tenant.key)
    problem(http.get(f"/v1/apps/{app_id}", headers=headers), 404)
    problem(http.patch(f"/v1/apps/{app_id}", json={"name": "X"}, headers=headers), 404)
    problem(http.put(f"/v1/apps/{app_id}/owner", json={"email": "a@b.io"}, headers=headers), 404)


def test_change_owner(server: Server, http: httpx.Client, tenant: Tenant) -> None:
    add_member(
        server.engine, workspace_id=tenant.workspace_id, email="a@acme.example", role="admin"
    )
    add_member(
        server.engine, workspace_id=tenant.workspace_id, email="d@acme.example", role="developer"
    )
    add_app(
        server.engine, workspace_id=tenant.workspace_id, app_id="bot", owner_email="a@acme.example"
    )
    response = http.put(
        "/v1/apps/bot/owner", json={"email": " D@Acme.example "}, headers=auth(tenant.key)
    )
    assert response.status_code == 200, response.text
    assert response.json()["owner_email"] == "d@acme.example"
    assert app_rows(server)[0].owner_email == "d@acme.example"
    fetched = http.get("/v1/apps/bot", headers=auth(tenant.key)).json()
    assert fetched["owner_email"] == "d@acme.example"


@pytest.mark.usefixtures("them")
@pytest.mark.parametrize(
    ("body", "status", "loc"),
    [
        ({"email": "s@acme.example"}, 422, ["body", "email"]),
        ({"email": "nobody@acme.example"}, 422, ["body", "email"]),
        ({"email": "boss@them.example"}, 422, ["body", "email"]),
        ({"email": "not an email"}, 422, ["body", "email"]),
        ({}, 422, ["body", "email"]),
        ({"email": None}, 422, ["body", "email"]),
    ],
    ids=[
        "shared role",
        "not a member",
        "another workspace's member",
        "malformed",
        "missing",
        "null",
    ],
)
def test_bad_owner_change_changes_nothing(
    server: Server,
    http: httpx.Client,
    tenant: Tenant,
    body: dict[str, Any],
    status: int,
    loc: list[str],
) -> None:
    add_member(
        server.engine, workspace_id=tenant.workspace_id, email="a@acme.example", role="admin"
    )
    add_member(
        server.engine, workspace_id=tenant.workspace_id, email="s@acme.example", role="shared"
    )
    add_app(
        server.engine, workspace_id=tenant.workspace_id, app_id="bot", owner_email="a@acme.example"
    )
    before = app_rows(server)
    response = http.put("/v1/apps/bot/owner", json=body, headers=auth(tenant.key))
    assert loc in error_locs(problem(response, status))
    assert app_rows(server) == before


def test_another_workspaces_app_cannot_be_touched(
    server: Server, http: httpx.Client, tenant: Tenant, them: Tenant
) -> None:
    add_member(
        server.engine, workspace_id=tenant.workspace_id, email="a@acme.example", role="admin"
    )
    before = app_rows(server)
    headers = auth(tenant.key)
    problem(http.get("/v1/apps/their-bot", headers=headers), 404)
    problem(http.patch("/v1/apps/their-bot", json={"name": "Pwned"}, headers=headers), 404)
    problem(
        http.put("/v1/apps/their-bot/owner", json={"email": "a@acme.example"}, headers=headers),
        404,
    )
    problem(
        http.put("/v1/apps/their-bot/owner", json={"email": "boss@them.example"}, headers=headers),
        404,
    )
    assert app_rows(server) == before
    listed = http.get("/v1/apps", headers=headers).json()
    assert listed["items"] == []


# -- consistency -------------------------------------------------------------------------


def test_concurrent_creates_of_one_id_give_one_201_and_409s(server: Server, tenant: Tenant) -> None:
    def create(n: int) -> int:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            return post_app(client, tenant.key, {"id": "bot", "name": f"Bot {n}"}).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(create, range(6)))
    assert statuses == [201, 409, 409, 409, 409, 409]
    assert len(app_rows(server)) == 1


def test_a_write_is_committed_before_its_response(
    server: Server, database_url: str, tenant: Tenant
) -> None:
    """A client holding a 201 or 200 can count on the change being there (API.md)."""

    def probe() -> list[AppRow]:
        return app_rows(server)

    with probing_server(database_url, probe) as (url, seen), httpx.Client(base_url=url) as client:
        created = client.post(
            "/v1/apps", json={"id": "bot", "name": "Bot"}, headers=auth(tenant.key)
        )
        assert created.status_code == 201
        renamed = client.patch("/v1/apps/bot", json={"name": "Renamed"}, headers=auth(tenant.key))
        assert renamed.status_code == 200
    assert [[row.name for row in rows] for rows in seen] == [["Bot"], ["Renamed"]]
