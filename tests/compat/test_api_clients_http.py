"""/v1/api-clients and ``botbill api-client``: issued by admins, shown once, revoked at once."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import select

from botbill.auth.keys import Scope
from botbill.compat.models import ApiClient
from botbill.kit.db import unit_of_work
from tests.audit.factories import log
from tests.compat.factories import errors, make_client, platform, token
from tests.conftest import Server
from tests.factories import auth, make_key, make_workspace, problem, run_botbill

SESSIONS = "/api/public/bots/getBillingSessionsDetails"
BODY = {"fromDate": "2026-11-25", "toDate": "2026-11-26"}


def test_a_client_is_issued_once_and_its_secret_kept_encrypted(
    server: Server, http: httpx.Client
) -> None:
    _, key = make_workspace(server.engine)
    response = http.post("/v1/api-clients", json={"name": "reconcile"}, headers=auth(key))
    assert response.status_code == 201, response.text
    issued = response.json()
    assert issued["client_id"].startswith("cs-")
    assert len(issued["client_id"]) == 39
    assert issued["scopes"] == ["billing_sessions:read"]
    secret = issued["client_secret"]
    assert len(secret) >= 40

    listed = http.get("/v1/api-clients", headers=auth(key)).json()["items"]
    assert [c["client_id"] for c in listed] == [issued["client_id"]]
    assert "client_secret" not in listed[0]
    with unit_of_work(server.engine, write=False) as session:
        stored = session.scalars(select(ApiClient)).one()
    assert secret.encode() not in stored.secret_ciphertext

    answer = http.post(SESSIONS, json=BODY, headers=platform(token(issued["client_id"], secret)))
    assert answer.status_code == 200, answer.text
    [entry] = log(http, key, action="api_client.created")
    assert entry["target"] == f"api_client:{issued['client_id']}"


def test_a_revoked_client_stops_at_once(server: Server, http: httpx.Client) -> None:
    _, key = make_workspace(server.engine)
    client_id, secret = make_client(http, key=key)
    headers = platform(token(client_id, secret))
    assert http.post(SESSIONS, json=BODY, headers=headers).status_code == 200

    revoked = http.delete(f"/v1/api-clients/{client_id}", headers=auth(key))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert "revoked" in errors(http.post(SESSIONS, json=BODY, headers=headers), 401)
    assert len(log(http, key, action="api_client.revoked")) == 1


def test_another_workspace_cannot_see_or_revoke_a_client(
    server: Server, http: httpx.Client
) -> None:
    _, key = make_workspace(server.engine)
    _, other = make_workspace(server.engine, name="Other")
    client_id, secret = make_client(http, key=key)
    problem(http.delete(f"/v1/api-clients/{client_id}", headers=auth(other)), 404)
    assert http.get("/v1/api-clients", headers=auth(other)).json()["items"] == []
    headers = platform(token(client_id, secret))
    assert http.post(SESSIONS, json=BODY, headers=headers).status_code == 200


def test_only_admins_manage_clients_and_bad_input_is_refused(
    server: Server, http: httpx.Client
) -> None:
    workspace_id, key = make_workspace(server.engine)
    reader = make_key(server.engine, workspace_id=workspace_id, scopes=[Scope.READ])
    problem(http.post("/v1/api-clients", json={"name": "x"}, headers=auth(reader)), 403)
    problem(http.get("/v1/api-clients", headers=auth(reader)), 403)
    body = problem(
        http.post(
            "/v1/api-clients",
            json={"name": "x", "scopes": ["chat_history:read"]},
            headers=auth(key),
        ),
        422,
    )
    assert body["errors"][0]["loc"][:2] == ["body", "scopes"]
    problem(http.post("/v1/api-clients", json={"name": " "}, headers=auth(key)), 422)
    assert http.get("/v1/api-clients", headers=auth(key)).json()["items"] == []


def test_the_command_line_issues_a_working_client(
    server: Server, http: httpx.Client, database_url: str
) -> None:
    workspace_id, key = make_workspace(server.engine)
    done = run_botbill(
        "api-client",
        "create",
        "--workspace",
        workspace_id,
        "--name",
        "nightly",
        "--json",
        database_url=database_url,
    )
    assert done.returncode == 0, done.stderr
    issued = json.loads(done.stdout)
    headers = platform(token(issued["client_id"], issued["client_secret"]))
    assert http.post(SESSIONS, json=BODY, headers=headers).status_code == 200
    [entry] = log(http, key, action="api_client.created")
    assert entry["actor"]["kind"] == "cli"

    unknown = run_botbill(
        "api-client", "create", "--workspace", "ws_nope", "--name", "x", database_url=database_url
    )
    assert unknown.returncode == 2
    assert "ws_nope" in unknown.stderr
