"""Webhook endpoints over HTTP (admin key): create, read, change, rotate, remove."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from botbill.auth.keys import Scope
from botbill.kit.db import unit_of_work
from botbill.webhooks.models import WebhookEndpoint
from tests.conftest import Server
from tests.factories import auth, error_locs, make_key, make_workspace, problem

URL = "https://hooks.example.com/botbill"


def create(http: httpx.Client, key: str, **fields: Any) -> dict[str, Any]:
    body = {"url": URL, "event_types": ["low_balance", "order.paid"], **fields}
    response = http.post("/v1/webhook-endpoints", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def endpoint_count(engine: Engine) -> int:
    with unit_of_work(engine, write=False) as session:
        return session.scalar(select(func.count()).select_from(WebhookEndpoint)) or 0


def test_create_shows_the_secret_once_and_reads_never_do(
    server: Server, http: httpx.Client
) -> None:
    _, key = make_workspace(server.engine)
    created = create(http, key, description="Accounting")
    assert created["secret"].startswith("whsec_")
    assert created["url"] == URL
    assert created["event_types"] == ["low_balance", "order.paid"]
    assert created["description"] == "Accounting"
    assert created["enabled"] is True

    one = http.get(f"/v1/webhook-endpoints/{created['id']}", headers=auth(key)).json()
    listed = http.get("/v1/webhook-endpoints", headers=auth(key)).json()
    assert "secret" not in one
    assert listed["next_cursor"] is None
    assert [e["id"] for e in listed["items"]] == [created["id"]]
    assert all("secret" not in e for e in listed["items"])


def test_lists_page_with_a_cursor(server: Server, http: httpx.Client) -> None:
    _, key = make_workspace(server.engine)
    ids = [create(http, key)["id"] for _ in range(3)]
    server.clock.advance(1)
    first = http.get("/v1/webhook-endpoints?limit=2", headers=auth(key)).json()
    second = http.get(
        f"/v1/webhook-endpoints?limit=2&cursor={first['next_cursor']}", headers=auth(key)
    ).json()
    assert second["next_cursor"] is None
    seen = [e["id"] for e in first["items"] + second["items"]]
    assert sorted(seen) == sorted(ids)


def test_patch_changes_only_what_is_given_and_is_audited(
    server: Server, http: httpx.Client
) -> None:
    _, key = make_workspace(server.engine)
    created = create(http, key)
    response = http.patch(
        f"/v1/webhook-endpoints/{created['id']}",
        json={"enabled": False, "event_types": ["invoice.issued", "invoice.issued"]},
        headers=auth(key),
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["enabled"] is False
    assert changed["event_types"] == ["invoice.issued"]
    assert changed["url"] == URL

    log = http.get("/v1/audit-log", headers=auth(key)).json()["items"]
    assert [e["action"] for e in log] == [
        "webhook_endpoint.updated",
        "webhook_endpoint.created",
    ]
    assert log[0]["before"] == {
        "event_types": ["low_balance", "order.paid"],
        "enabled": True,
    }
    assert log[0]["after"] == {"event_types": ["invoice.issued"], "enabled": False}
    assert all("whsec_" not in str(e) for e in log)


def test_rotation_gives_a_new_secret(server: Server, http: httpx.Client) -> None:
    _, key = make_workspace(server.engine)
    created = create(http, key)
    response = http.post(f"/v1/webhook-endpoints/{created['id']}/rotate-secret", headers=auth(key))
    assert response.status_code == 200, response.text
    rotated = response.json()
    assert rotated["id"] == created["id"]
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != created["secret"]
    with unit_of_work(server.engine, write=False) as session:
        stored = session.get(WebhookEndpoint, created["id"])
        assert stored is not None
        assert stored.secret == rotated["secret"]


def test_delete_removes_the_endpoint(server: Server, http: httpx.Client) -> None:
    _, key = make_workspace(server.engine)
    created = create(http, key)
    response = http.delete(f"/v1/webhook-endpoints/{created['id']}", headers=auth(key))
    assert response.status_code == 204
    problem(http.get(f"/v1/webhook-endpoints/{created['id']}", headers=auth(key)), 404)
    log = http.get("/v1/audit-log", headers=auth(key)).json()["items"]
    assert log[0]["action"] == "webhook_endpoint.deleted"
    assert log[0]["after"] is None


def test_another_workspaces_endpoint_is_not_found_and_stays_as_it_was(
    server: Server, http: httpx.Client
) -> None:
    _, key = make_workspace(server.engine)
    _, other = make_workspace(server.engine, name="Other")
    created = create(http, key)
    path = f"/v1/webhook-endpoints/{created['id']}"
    problem(http.get(path, headers=auth(other)), 404)
    problem(http.patch(path, json={"enabled": False}, headers=auth(other)), 404)
    problem(http.post(f"{path}/rotate-secret", headers=auth(other)), 404)
    problem(http.get(f"{path}/deliveries", headers=auth(other)), 404)
    problem(http.delete(path, headers=auth(other)), 404)
    assert http.get("/v1/webhook-endpoints", headers=auth(other)).json()["items"] == []
    assert http.get(path, headers=auth(key)).json() == {
        k: v for k, v in created.items() if k != "secret"
    }


def test_bad_input_is_a_clear_422_and_creates_nothing(server: Server, http: httpx.Client) -> None:
    _, key = make_workspace(server.engine)
    cases: list[tuple[dict[str, Any], list[str | int]]] = [
        ({"url": "http://hooks.example.com/x", "event_types": ["low_balance"]}, ["body", "url"]),
        ({"url": URL, "event_types": ["low_balance", "pizza.ordered"]}, ["body", "event_types", 1]),
        ({"url": URL, "event_types": []}, ["body", "event_types"]),
        ({"event_types": ["low_balance"]}, ["body", "url"]),
        ({"url": URL, "event_types": ["low_balance"], "secret": "mine"}, ["body", "secret"]),
    ]
    for body, loc in cases:
        response = http.post("/v1/webhook-endpoints", json=body, headers=auth(key))
        assert loc in error_locs(problem(response, 422)), (body, response.text)
    assert endpoint_count(server.engine) == 0


def test_a_bad_url_in_a_patch_changes_nothing(server: Server, http: httpx.Client) -> None:
    _, key = make_workspace(server.engine)
    created = create(http, key)
    path = f"/v1/webhook-endpoints/{created['id']}"
    response = http.patch(
        path, json={"url": "ftp://x.example", "enabled": False}, headers=auth(key)
    )
    body = problem(response, 422)
    assert error_locs(body) == [["body", "url"]]
    assert "https://" in body["detail"]
    assert http.get(path, headers=auth(key)).json()["enabled"] is True


def test_only_admin_keys_manage_endpoints(server: Server, http: httpx.Client) -> None:
    workspace_id, _ = make_workspace(server.engine)
    reader = make_key(server.engine, workspace_id=workspace_id, scopes=[Scope.READ])
    problem(http.get("/v1/webhook-endpoints", headers=auth(reader)), 403)
    response = http.post(
        "/v1/webhook-endpoints",
        json={"url": URL, "event_types": ["low_balance"]},
        headers=auth(reader),
    )
    problem(response, 403)
    problem(http.get("/v1/webhook-endpoints"), 401)
    assert endpoint_count(server.engine) == 0


def test_odd_ids_and_cursors_are_clear_answers(server: Server, http: httpx.Client) -> None:
    _, key = make_workspace(server.engine)
    create(http, key)
    problem(http.get("/v1/webhook-endpoints/we_%00x", headers=auth(key)), 404)
    problem(http.post("/v1/webhook-deliveries/dlv_%00x/retry", headers=auth(key)), 404)
    problem(http.get("/v1/webhook-endpoints/we_%00x/deliveries", headers=auth(key)), 404)
    for position in (f'[{2**70},"we_x"]', '["we_x",1]', "[1]"):
        cursor = base64.urlsafe_b64encode(position.encode()).decode()
        response = http.get(f"/v1/webhook-endpoints?cursor={cursor}", headers=auth(key))
        assert error_locs(problem(response, 422)) == [["query", "cursor"]]
