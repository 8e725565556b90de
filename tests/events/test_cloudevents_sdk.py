"""The official CloudEvents Python SDK works as a client, unchanged, in every content mode.

Both of its APIs are used as a runtime would: the current one (``cloudevents.core``) and
the long-standing ``cloudevents.v1`` one. The SDK has no batch helper, so a batch is its
JSON format's serialization of each event, in an array.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cloudevents.core.bindings.http import HTTPMessage, to_binary_event, to_structured_event
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from cloudevents.v1 import conversion as v1_conversion
from cloudevents.v1.http import CloudEvent as V1CloudEvent

from botbill.kit.instants import to_micros
from tests.conftest import Server
from tests.factories import (
    T0,
    add_app,
    auth,
    error_locs,
    make_workspace,
    minutes,
    problem,
    stored_events,
)

AT = datetime(2026, 11, 26, 11, 55, 30, 250000, tzinfo=UTC)


@pytest.fixture
def key(server: Server) -> str:
    workspace_id, key = make_workspace(server.engine)
    add_app(server.engine, workspace_id=workspace_id, app_id="support-bot")
    return key


def core_event(
    kind: str = "conversation.message",
    *,
    data: dict[str, Any] | None = None,
    **attributes: Any,
) -> CloudEvent:
    return CloudEvent(
        attributes={
            "type": kind,
            "source": "https://runtime.example/eu",
            "subject": "support-bot",
            "time": AT,
            **attributes,
        },
        data={"conversation_id": "c-1", "sender": "user"} if data is None else data,
    )


def deliver(http: httpx.Client, key: str, message: HTTPMessage) -> httpx.Response:
    return http.post("/v1/events", content=message.body, headers={**message.headers, **auth(key)})


def test_core_structured(server: Server, http: httpx.Client, key: str) -> None:
    sent = core_event(id="s-1", traceparent="00-abc-01", datacontenttype="application/json")
    message = to_structured_event(sent)
    assert message.headers["content-type"] == "application/cloudevents+json"
    response = deliver(http, key, message)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1, "duplicates": 0}
    [row] = stored_events(server.engine)
    assert (row.event_id, row.source, row.type, row.app_id) == (
        "s-1",
        "https://runtime.example/eu",
        "conversation.message",
        "support-bot",
    )
    assert row.time == to_micros(AT)
    assert (row.conversation_id, row.sender) == ("c-1", "user")
    assert row.extensions == {"traceparent": "00-abc-01"}


def test_core_binary_with_percent_encoded_extensions(
    server: Server, http: httpx.Client, key: str
) -> None:
    sent = core_event(
        id="b 1",
        source="https://runtime.example/a b",
        region="café eu",
        datacontenttype="application/json",
    )
    message = to_binary_event(sent)
    # The SDK percent-encodes header values: the server must decode them.
    assert message.headers["ce-region"] == "caf%C3%A9%20eu"
    assert message.headers["ce-id"] == "b%201"
    response = deliver(http, key, message)
    assert response.status_code == 200, response.text
    [row] = stored_events(server.engine)
    assert (row.event_id, row.source) == ("b 1", "https://runtime.example/a b")
    assert row.time == to_micros(AT)
    assert row.data == {"conversation_id": "c-1", "sender": "user"}
    assert row.extensions == {"region": "café eu"}


def test_core_binary_without_a_content_type(server: Server, http: httpx.Client, key: str) -> None:
    message = to_binary_event(core_event(id="b-2"))
    assert "content-type" not in {name.lower() for name in message.headers}
    response = deliver(http, key, message)
    assert response.json() == {"accepted": 1, "duplicates": 0}


def test_core_batch(server: Server, http: httpx.Client, key: str) -> None:
    json_format = JSONFormat()
    events = [
        core_event("conversation.started", id="k-1", data={"conversation_id": "c-1"}),
        core_event("conversation.message", id="k-2", time=AT + minutes(1)),
        core_event(
            "conversation.ended", id="k-3", time=AT + minutes(2), data={"conversation_id": "c-1"}
        ),
        core_event("alert.delivered", id="k-4", data={"alert_id": "a-1"}),
        core_event("agent.seat_assigned", id="k-5", data={"agent_id": "ag-1"}),
    ]
    body = b"[" + b",".join(json_format.write(e) for e in events) + b"]"
    response = http.post(
        "/v1/events",
        content=body,
        headers={**auth(key), "content-type": "application/cloudevents-batch+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 5, "duplicates": 0}
    rows = stored_events(server.engine)
    assert [row.event_id for row in rows] == ["k-1", "k-2", "k-3", "k-4", "k-5"]
    assert rows[4].agent_id == "ag-1"


def test_core_modes_share_identity(server: Server, http: httpx.Client, key: str) -> None:
    sent = core_event(id="same")
    assert deliver(http, key, to_binary_event(sent)).json() == {"accepted": 1, "duplicates": 0}
    assert deliver(http, key, to_structured_event(sent)).json() == {
        "accepted": 0,
        "duplicates": 1,
    }
    assert len(stored_events(server.engine)) == 1


def test_core_binary_bad_event_is_refused_and_named(
    server: Server, http: httpx.Client, key: str
) -> None:
    sent = core_event(id="bad", data={"conversation_id": "c-1", "sender": "robot"})
    body = problem(deliver(http, key, to_binary_event(sent)), 422)
    assert error_locs(body) == [["events", 0, "data", "sender"]]
    assert stored_events(server.engine) == []


def test_core_structured_event_too_far_ahead_is_refused(
    server: Server, http: httpx.Client, key: str
) -> None:
    sent = core_event(id="future", time=T0 + minutes(6))
    body = problem(deliver(http, key, to_structured_event(sent)), 422)
    assert error_locs(body) == [["events", 0, "time"]]
    assert stored_events(server.engine) == []


def v1_event(**attributes: Any) -> V1CloudEvent:
    return V1CloudEvent(
        {
            "type": "conversation.started",
            "source": "runtime/eu",
            "subject": "support-bot",
            "time": "2026-11-26T11:55:30.25Z",
            **attributes,
        },
        {"conversation_id": "c-7", "channel": "voice"},
    )


def test_v1_structured(server: Server, http: httpx.Client, key: str) -> None:
    headers, body = v1_conversion.to_structured(v1_event(id="v-1", partition="p7"))
    response = http.post("/v1/events", content=body, headers={**headers, **auth(key)})
    assert response.status_code == 200, response.text
    [row] = stored_events(server.engine)
    assert (row.event_id, row.conversation_id, row.channel) == ("v-1", "c-7", "voice")
    assert row.time == to_micros(AT)
    assert row.extensions == {"partition": "p7"}


def test_v1_binary(server: Server, http: httpx.Client, key: str) -> None:
    headers, body = v1_conversion.to_binary(v1_event(id="v-2", partition="p7"))
    assert headers["ce-id"] == "v-2"
    response = http.post("/v1/events", content=body, headers={**headers, **auth(key)})
    assert response.status_code == 200, response.text
    [row] = stored_events(server.engine)
    assert (row.event_id, row.source, row.channel) == ("v-2", "runtime/eu", "voice")
    assert row.extensions == {"partition": "p7"}
