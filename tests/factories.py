"""Keyword-only factories for tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from sqlalchemy import Engine, select

from botbill.app import create_app as create_server_app
from botbill.apps.schemas import AppCreate
from botbill.apps.service import create_app
from botbill.auth.keys import Scope
from botbill.auth.service import create_key
from botbill.events.models import Event
from botbill.kit.clock import FrozenClock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import to_micros
from botbill.settings import Settings
from botbill.workspaces.schemas import MemberCreate, Role
from botbill.workspaces.service import add_member as add_workspace_member
from botbill.workspaces.service import create_workspace, get_workspace

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
"""The tests' "now" unless a test moves the clock."""


def make_workspace(
    engine: Engine, *, name: str = "Acme", timezone: str = "UTC", currency: str = "USD"
) -> tuple[str, str]:
    """A workspace and its admin key's secret."""
    with unit_of_work(engine, write=True) as session:
        workspace, issued = create_workspace(
            session, name=name, timezone=timezone, currency=currency, now=to_micros(T0)
        )
        return workspace.id, issued.secret


def make_key(engine: Engine, *, workspace_id: str, scopes: list[Scope]) -> str:
    with unit_of_work(engine, write=True) as session:
        workspace = get_workspace(session, workspace_id)
        return create_key(
            session, workspace_id=workspace.id, name="test", scopes=scopes, now=to_micros(T0)
        ).secret


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def make_app(
    http: httpx.Client, *, key: str, app_id: str = "support-bot", **fields: Any
) -> dict[str, Any]:
    body = {"id": app_id, "name": fields.pop("name", app_id.replace("-", " ").title()), **fields}
    response = http.post("/v1/apps", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


_counter = iter(range(1, 10**9))


def event(
    kind: str,
    *,
    at: datetime,
    app: str = "support-bot",
    source: str = "runtime",
    id: str | None = None,
    **data: Any,
) -> dict[str, Any]:
    """A CloudEvent as the runtime would send it."""
    return {
        "specversion": "1.0",
        "id": id or f"evt-{next(_counter)}",
        "source": source,
        "type": kind,
        "time": at.isoformat().replace("+00:00", "Z"),
        "subject": app,
        "data": data,
    }


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def send_events(
    http: httpx.Client,
    *,
    key: str,
    body: Any,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST /v1/events with ``body`` serialized as JSON (bytes are sent as they are)."""
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return http.post(
        "/v1/events",
        content=content,
        headers={**auth(key), "content-type": content_type, **(headers or {})},
    )


def make_member(
    http: httpx.Client, *, key: str, email: str, role: str = "admin", name: str | None = None
) -> dict[str, Any]:
    body = {"email": email, "name": name or email.split("@", 1)[0].title(), "role": role}
    response = http.post("/v1/members", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def stored_events(engine: Engine) -> list[Event]:
    """Every raw event in the database, in arrival order."""
    with unit_of_work(engine, write=False) as session:
        return list(session.scalars(select(Event).order_by(Event.seq)))


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem+json body of an error response, after checking its status and shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str)
    assert body["type"].strip()
    assert isinstance(body["title"], str)
    assert body["title"].strip()
    assert isinstance(body["detail"], str)
    assert body["detail"].strip()
    return body


def error_locs(body: dict[str, Any]) -> list[list[str | int]]:
    """The ``loc`` of every entry of a problem's ``errors``."""
    return [error["loc"] for error in body.get("errors", [])]


def add_app(
    engine: Engine,
    *,
    workspace_id: str,
    app_id: str = "support-bot",
    name: str = "Support Bot",
    **fields: Any,
) -> None:
    """An app written straight to the database (for tests about something else)."""
    with unit_of_work(engine, write=True) as session:
        create_app(
            session, workspace_id, AppCreate(id=app_id, name=name, **fields), now=to_micros(T0)
        )


def add_member(
    engine: Engine, *, workspace_id: str, email: str, role: str = "admin", name: str = "Member"
) -> None:
    """A member written straight to the database (for tests about something else)."""
    with unit_of_work(engine, write=True) as session:
        add_workspace_member(
            session,
            workspace_id,
            MemberCreate(email=email, name=name, role=Role(role)),
            now=to_micros(T0),
        )


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a free local port in a thread; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def probing_server(database_url: str, probe: Callable[[], Any]) -> Iterator[tuple[str, list[Any]]]:
    """A real server whose every response start first records ``probe()``.

    ``probe`` reads the database from outside the request, so it shows what a client
    that has the response in hand can already see.
    """
    settings = Settings(
        environment="test", database_url=database_url, migrate_on_start=False, jobs_enabled=False
    )
    inner = create_server_app(settings, clock=FrozenClock(to_micros(T0)))
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return

        async def spy(message: Any) -> None:
            if message["type"] == "http.response.start":
                seen.append(probe())
            await send(message)

        await inner(scope, receive, spy)

    with serving(app) as url:
        yield url, seen


BOTBILL = Path(sys.executable).with_name("botbill")
"""The installed command line, beside the interpreter running the tests."""


def run_botbill(
    *args: str, database_url: str, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``botbill ARGS`` as a subprocess over ``database_url``; output captured as text."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("BOTBILL_")}
    env |= {"BOTBILL_DATABASE_URL": database_url, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [str(BOTBILL), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def run_all(workers: list[threading.Thread]) -> None:
    """Start every thread, then wait for each (two minutes at most)."""
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert not worker.is_alive()


# SQLite serializes writers on its database lock; these races are PostgreSQL's.
postgresql_only = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
