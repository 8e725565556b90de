"""POST /v1/events over real HTTP: content modes, validation, dedup, limits."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from botbill.events.models import Event
from botbill.kit.db import unit_of_work
from tests.conftest import Server
from tests.factories import T0, auth, event, make_app, make_workspace, minutes


@pytest.fixture
def tenant(server: Server, http: httpx.Client) -> str:
    _, key = make_workspace(server.engine)
    make_app(http, key=key, app_id="support-bot")
    return key


def stored(server: Server) -> int:
    with unit_of_work(server.engine, write=False) as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


def post(
    http: httpx.Client, key: str, body: Any, content_type: str = "application/json"
) -> httpx.Response:
    return http.post(
        "/v1/events",
        content=orjson.dumps(body),
        headers={**auth(key), "content-type": content_type},
    )


def test_batch_is_stored_and_duplicates_counted(
    server: Server, http: httpx.Client, tenant: str
) -> None:
    batch = [
        event("conversation.started", at=T0 - minutes(10), conversation_id="c1"),
        event("conversation.message", at=T0 - minutes(9), conversation_id="c1", sender="user"),
    ]
    first = post(http, tenant, batch, "application/cloudevents-batch+json")
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 2, "duplicates": 0}
    again = post(http, tenant, [*batch, batch[0]])
    assert again.json() == {"accepted": 0, "duplicates": 3}
    assert stored(server) == 2


def test_invalid_event_refuses_the_whole_batch(
    server: Server, http: httpx.Client, tenant: str
) -> None:
    good = event("conversation.started", at=T0 - minutes(5), conversation_id="c1")
    bad = event("conversation.message", at=T0 - minutes(4), conversation_id="c1", sender="robot")
    response = post(http, tenant, [good, good | {"id": "other"}, bad])
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert {"loc": ["events", 2, "data", "sender"], "msg": problem["errors"][0]["msg"]} in problem[
        "errors"
    ]
    assert stored(server) == 0
