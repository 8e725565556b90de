"""Credentials before bodies: a request without a live key is answered 401 before the
server reads its body, so an anonymous caller can neither make the server buffer or
parse a body nor learn how its body was wrong (422, 413)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from botbill.auth.service import create_operator_key
from botbill.events.models import Event
from botbill.kit.db import unit_of_work
from botbill.kit.instants import to_micros
from botbill.settings import Settings
from botbill.workspaces.models import App
from tests.conftest import Server
from tests.factories import T0, add_app, auth, event, make_workspace, problem

BAD_KEY = auth("bb_" + "x" * 43)
LIMIT = Settings().max_body_bytes
EVENT = event("conversation.started", at=T0, app="bot", id="e-1", conversation_id="c-1")


@pytest.fixture
def workspace_id(server: Server) -> str:
    workspace_id, _ = make_workspace(server.engine)
    add_app(server.engine, workspace_id=workspace_id, app_id="bot")
    return workspace_id


def stored(server: Server) -> tuple[int, int]:
    """(events, apps) in the database."""
    with unit_of_work(server.engine, write=False) as session:
        events = session.scalar(select(func.count()).select_from(Event)) or 0
        apps = session.scalar(select(func.count()).select_from(App)) or 0
        return events, apps


def chunks(total: int) -> Iterator[bytes]:
    """A body sent chunked, with no Content-Length to refuse it by."""
    sent = 0
    while sent < total:
        size = min(64 * 1024, total - sent)
        sent += size
        yield b"x" * size


@pytest.mark.parametrize(
    "headers", [{}, BAD_KEY, {"Authorization": "Basic dXNlcjpwYXNz"}], ids=["none", "bad", "basic"]
)
def test_a_bad_body_without_a_live_key_is_401_and_stores_nothing(
    server: Server, http: httpx.Client, workspace_id: str, headers: dict[str, str]
) -> None:
    before = stored(server)
    json_type = {"content-type": "application/json"}
    bodies = {
        "malformed events": ("/v1/events", b"{broken"),
        "invalid events": ("/v1/events", json.dumps([{**EVENT, "time": "yesterday"}]).encode()),
        "oversized events": ("/v1/events", b"[" + b" " * LIMIT + b"]"),
        "malformed app": ("/v1/apps", b"{broken"),
        "invalid app": ("/v1/apps", b'{"id": "Not An Id!", "name": ""}'),
    }
    for name, (path, body) in bodies.items():
        response = http.post(path, content=body, headers={**json_type, **headers})
        assert response.status_code == 401, (name, response.text)
        problem(response, 401)
    chunked = http.post("/v1/events", content=chunks(LIMIT + 1), headers={**json_type, **headers})
    problem(chunked, 401)
    assert stored(server) == before


def test_a_live_key_still_hears_what_was_wrong_with_its_body(
    server: Server, http: httpx.Client
) -> None:
    workspace_id, key = make_workspace(server.engine)
    json_type = {"content-type": "application/json", **auth(key)}
    problem(http.post("/v1/events", content=b"{broken", headers=json_type), 400)
    problem(http.post("/v1/events", content=b"[" + b" " * LIMIT + b"]", headers=json_type), 413)
    problem(http.post("/v1/apps", content=b"{broken", headers=json_type), 422)
    problem(http.post("/v1/apps", content=b'{"id": "Not An Id!"}', headers=json_type), 422)
    with unit_of_work(server.engine, write=True) as session:
        _, operator_key = create_operator_key(session, name="ops", now=to_micros(T0))
    account_type = f"/v1/workspaces/{workspace_id}/account-type"
    malformed = {"content-type": "application/json"}
    problem(http.put(account_type, content=b"{broken", headers=malformed), 401)
    problem(http.put(account_type, content=b"{broken", headers={**malformed, **BAD_KEY}), 401)
    operator = {**malformed, **auth(operator_key)}
    problem(http.put(account_type, content=b"{broken", headers=operator), 422)


@pytest.mark.parametrize("path", ["/v1/events", "/v1/apps"])
def test_401_comes_before_the_body_is_sent(server: Server, path: str) -> None:
    """The request's headers promise a body that never comes: the answer must not wait
    for it."""
    address = urlsplit(server.url)
    assert address.hostname is not None
    assert address.port is not None
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: Bearer bb_unknown\r\nContent-Type: application/json\r\n"
        f"Content-Length: {LIMIT // 2}\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(head.encode())
        status_line = sock.makefile("rb").readline()
    assert status_line.split()[1] == b"401", status_line
