"""API keys over HTTP (API.md "API keys"): listed without secrets, created with the secret
shown once, revoked so that they stop working; every change in the audit log."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from botbill.auth.keys import Scope
from botbill.auth.models import ApiKey
from botbill.kit.db import unit_of_work
from botbill.kit.instants import SECOND, from_micros
from tests.audit.factories import key_id, log
from tests.conftest import Server
from tests.factories import auth, error_locs, make_key, make_workspace, problem
from tests.wallet.accounts import Tenant, tenant


@pytest.fixture
def acme(server: Server) -> Tenant:
    return tenant(server.engine)


def stored_keys(server: Server) -> list[tuple[str, str, str, str, Any]]:
    with unit_of_work(server.engine, write=False) as session:
        return [
            (k.workspace_id, k.id, k.name, k.scopes, k.revoked_at)
            for k in session.scalars(select(ApiKey).order_by(ApiKey.id))
        ]


def create(http: httpx.Client, key: str, **body: Any) -> dict[str, Any]:
    response = http.post("/v1/api-keys", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_a_created_key_works_within_its_scopes_and_is_listed_without_its_secret(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    admin_id = key_id(server, acme)
    created = create(http, acme.key, name=" runtime ", scopes=["ingest", "read", "read"])
    assert created["name"] == "runtime"
    assert created["scopes"] == ["ingest", "read"]
    assert created["revoked_at"] is None
    assert created["last_used_at"] is None
    assert created["created_at"] == "2026-11-26T12:00:00Z"
    secret = created["secret"]
    assert secret.startswith("bb_")

    assert http.get("/v1/apps", headers=auth(secret)).status_code == 200
    problem(http.post("/v1/apps", json={"name": "X"}, headers=auth(secret)), 403)

    listed = http.get("/v1/api-keys", headers=auth(acme.key))
    assert listed.status_code == 200
    assert secret not in listed.text
    items = listed.json()["items"]
    assert {item["id"] for item in items} == {admin_id, created["id"]}
    ours = next(item for item in items if item["id"] == created["id"])
    assert set(ours) == {"id", "name", "scopes", "created_at", "last_used_at", "revoked_at"}
    assert ours["last_used_at"] == "2026-11-26T12:00:00Z"  # the GET /v1/apps above

    [entry] = log(http, acme.key, action="api_key.created")
    assert entry["target"] == f"api_key:{created['id']}"
    assert entry["after"] == {"name": "runtime", "scopes": ["ingest", "read"]}
    assert secret not in str(entry)


def test_the_list_pages_by_cursor(server: Server, http: httpx.Client, acme: Tenant) -> None:
    for n in range(4):
        create(http, acme.key, name=f"key {n}", scopes=["read"])
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = http.get("/v1/api-keys", params=params, headers=auth(acme.key)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5
    assert seen == sorted(seen)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"name": "   ", "scopes": ["read"]}, "name"),
        ({"name": "n\x00", "scopes": ["read"]}, "name"),
        ({"name": "x" * 201, "scopes": ["read"]}, "name"),
        ({"name": "k", "scopes": []}, "scopes"),
        ({"name": "k", "scopes": ["root"]}, "scopes"),
        ({"name": "k"}, "scopes"),
        ({"scopes": ["read"]}, "name"),
        ({"name": "k", "scopes": ["read"], "secret": "bb_mine"}, "secret"),
    ],
)
def test_bad_input_is_a_clear_422_and_creates_nothing(
    server: Server, http: httpx.Client, acme: Tenant, body: dict[str, Any], field: str
) -> None:
    before = stored_keys(server)
    response = http.post("/v1/api-keys", json=body, headers=auth(acme.key))
    assert field in str(error_locs(problem(response, 422)))
    assert stored_keys(server) == before
    assert log(http, acme.key, action="api_key.created") == []


@pytest.mark.parametrize("scope", [Scope.READ, Scope.INGEST])
def test_only_admin_keys_manage_keys(
    server: Server, http: httpx.Client, acme: Tenant, scope: Scope
) -> None:
    admin_id = key_id(server, acme)
    weaker = make_key(server.engine, workspace_id=acme.workspace_id, scopes=[scope])
    before = stored_keys(server)
    problem(http.get("/v1/api-keys", headers=auth(weaker)), 403)
    body = {"name": "escalate", "scopes": ["admin"]}
    problem(http.post("/v1/api-keys", json=body, headers=auth(weaker)), 403)
    problem(http.delete(f"/v1/api-keys/{admin_id}", headers=auth(weaker)), 403)
    assert stored_keys(server) == before


def test_a_revoked_key_stops_working(server: Server, http: httpx.Client, acme: Tenant) -> None:
    created = create(http, acme.key, name="runtime", scopes=["read"])
    assert http.get("/v1/apps", headers=auth(created["secret"])).status_code == 200  # cached

    server.clock.advance(5 * SECOND)
    response = http.delete(f"/v1/api-keys/{created['id']}", headers=auth(acme.key))
    assert response.status_code == 204, response.text
    # This process forgets it at once; others within KEY_CACHE_SECONDS.
    problem(http.get("/v1/apps", headers=auth(created["secret"])), 401)

    listed = http.get("/v1/api-keys", headers=auth(acme.key)).json()["items"]
    revoked = next(item for item in listed if item["id"] == created["id"])
    assert revoked["revoked_at"] == "2026-11-26T12:00:05Z"
    [entry] = log(http, acme.key, action="api_key.revoked")
    assert (entry["target"], entry["before"], entry["after"]) == (
        f"api_key:{created['id']}",
        {"revoked_at": None},
        {"revoked_at": "2026-11-26T12:00:05Z"},
    )

    again = problem(http.delete(f"/v1/api-keys/{created['id']}", headers=auth(acme.key)), 409)
    assert "already revoked" in again["detail"]
    assert len(log(http, acme.key, action="api_key.revoked")) == 1


def test_an_admin_key_may_revoke_itself(server: Server, http: httpx.Client, acme: Tenant) -> None:
    own = key_id(server, acme)
    assert http.delete(f"/v1/api-keys/{own}", headers=auth(acme.key)).status_code == 204
    problem(http.get("/v1/api-keys", headers=auth(acme.key)), 401)
    assert stored_keys(server)[0][4] is not None


@pytest.mark.parametrize("target", ["theirs", "key_unknown", "%00"])
def test_another_workspaces_key_is_unknown(
    server: Server, http: httpx.Client, acme: Tenant, target: str
) -> None:
    other = tenant(server.engine, name="Other")
    theirs = key_id(server, other)
    before = stored_keys(server)
    path = f"/v1/api-keys/{theirs if target == 'theirs' else target}"
    problem(http.delete(path, headers=auth(acme.key)), 404)
    assert stored_keys(server) == before
    assert http.get("/v1/api-keys", headers=auth(other.key)).status_code == 200
    listed = http.get("/v1/api-keys", headers=auth(acme.key)).json()["items"]
    assert theirs not in {item["id"] for item in listed}


def test_last_use_is_written_at_most_once_a_minute(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    def last_used() -> Any:
        with unit_of_work(server.engine, write=False) as session:
            return session.scalars(
                select(ApiKey.last_used_at).where(ApiKey.workspace_id == acme.workspace_id)
            ).one()

    assert last_used() is None
    start = server.clock.now()
    for offset in (0, 30, 59):
        server.clock.set(start + offset * SECOND)
        assert http.get("/v1/apps", headers=auth(acme.key)).status_code == 200
        assert last_used() == from_micros(start)
    server.clock.set(start + 60 * SECOND)
    assert http.get("/v1/apps", headers=auth(acme.key)).status_code == 200
    assert last_used() == from_micros(start + 60 * SECOND)


def test_a_workspace_lists_only_its_own_keys(server: Server, http: httpx.Client) -> None:
    _, mine = make_workspace(server.engine, name="Mine")
    _, theirs = make_workspace(server.engine, name="Theirs")
    create(http, theirs, name="theirs", scopes=["read"])
    [only] = http.get("/v1/api-keys", headers=auth(mine)).json()["items"]
    assert only["name"] != "theirs"
