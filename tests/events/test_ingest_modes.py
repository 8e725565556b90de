"""POST /v1/events in every content mode of the CloudEvents HTTP binding, and dedup."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from botbill.kit.instants import to_micros
from tests.conftest import Server
from tests.factories import (
    T0,
    add_app,
    auth,
    error_locs,
    event,
    make_workspace,
    minutes,
    problem,
    send_events,
    stored_events,
)


@dataclass(frozen=True)
class Tenant:
    workspace_id: str
    key: str


@pytest.fixture
def tenant(server: Server) -> Tenant:
    workspace_id, key = make_workspace(server.engine)
    add_app(server.engine, workspace_id=workspace_id, app_id="support-bot")
    return Tenant(workspace_id, key)


def binary_headers(key: str, **attributes: str) -> dict[str, str]:
    return {**auth(key), **{f"ce-{name}": value for name, value in attributes.items()}}


# -- structured mode ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/cloudevents+json",
        "application/cloudevents+json; charset=utf-8",
        "Application/CloudEvents+JSON",
        "application/json",
        "application/json; charset=UTF-8",
    ],
)
def test_structured_event_is_stored_as_sent(
    server: Server, http: httpx.Client, tenant: Tenant, content_type: str
) -> None:
    sent = event(
        "conversation.message",
        at=T0 - minutes(3),
        id="m-1",
        source="https://runtime.example/eu",
        conversation_id="c-1",
        sender="user",
        channel="voice",
        locale="de-DE",
    )
    response = send_events(http, key=tenant.key, body=sent, content_type=content_type)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1, "duplicates": 0}

    [row] = stored_events(server.engine)
    assert row.workspace_id == tenant.workspace_id
    assert (row.source, row.event_id, row.type) == (
        "https://runtime.example/eu",
        "m-1",
        "conversation.message",
    )
    assert row.app_id == "support-bot"
    assert row.time == to_micros(T0 - minutes(3))
    assert row.ingested_at == to_micros(T0)
    assert (row.conversation_id, row.sender, row.channel, row.developer) == (
        "c-1",
        "user",
        "voice",
        False,
    )
    # Unknown data fields are kept as sent.
    assert row.data == {
        "conversation_id": "c-1",
        "sender": "user",
        "channel": "voice",
        "locale": "de-DE",
    }
    assert row.extensions is None


def test_structured_extension_attributes_are_kept(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    sent = event("conversation.started", at=T0, conversation_id="c-1") | {
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "region": "eu-west",
        "datacontenttype": "application/json",
    }
    response = send_events(http, key=tenant.key, body=sent, content_type="application/json")
    assert response.status_code == 200, response.text
    [row] = stored_events(server.engine)
    assert row.extensions == {
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "region": "eu-west",
    }


def test_time_with_an_offset_and_fraction_is_stored_as_utc_micros(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    sent = event("conversation.started", at=T0, conversation_id="c-1") | {
        "time": "2026-11-26T17:25:30.123456+05:30"
    }
    assert send_events(http, key=tenant.key, body=sent).status_code == 200
    [row] = stored_events(server.engine)
    assert row.time == to_micros(datetime(2026, 11, 26, 11, 55, 30, 123456, tzinfo=UTC))


def test_every_event_type_is_accepted(server: Server, http: httpx.Client, tenant: Tenant) -> None:
    at = T0 - minutes(30)
    batch = [
        event("conversation.started", at=at, conversation_id="c-1", channel="chat"),
        event("conversation.message", at=at + minutes(1), conversation_id="c-1", sender="user"),
        event("conversation.transferred", at=at + minutes(2), conversation_id="c-1", agent_id="a"),
        event("conversation.returned", at=at + minutes(3), conversation_id="c-1"),
        event("conversation.ended", at=at + minutes(4), conversation_id="c-1"),
        event("alert.delivered", at=at, alert_id="al-1", user_id="u-1", developer=True),
        event("agent.seat_assigned", at=at, agent_id="a"),
        event("agent.seat_released", at=at + minutes(5), agent_id="a"),
    ]
    response = send_events(http, key=tenant.key, body=batch)
    assert response.json() == {"accepted": 8, "duplicates": 0}
    rows = {row.type: row for row in stored_events(server.engine)}
    assert len(rows) == 8
    assert rows["conversation.transferred"].agent_id == "a"
    assert rows["agent.seat_assigned"].agent_id == "a"
    assert rows["alert.delivered"].developer is True
    assert rows["alert.delivered"].conversation_id is None
    assert rows["conversation.started"].developer is False


def test_alert_without_data_is_accepted(server: Server, http: httpx.Client, tenant: Tenant) -> None:
    sent = event("alert.delivered", at=T0)
    del sent["data"]
    response = send_events(http, key=tenant.key, body=sent)
    assert response.status_code == 200, response.text
    [row] = stored_events(server.engine)
    assert (row.type, row.developer) == ("alert.delivered", False)


# -- batched mode ------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/cloudevents-batch+json", "application/json"])
def test_batch_is_stored_whole(
    server: Server, http: httpx.Client, tenant: Tenant, content_type: str
) -> None:
    batch = [
        event("conversation.started", at=T0 - minutes(10), conversation_id="c-1"),
        event("conversation.message", at=T0 - minutes(9), conversation_id="c-1", sender="user"),
        event("conversation.message", at=T0 - minutes(8), conversation_id="c-1", sender="bot"),
    ]
    response = send_events(http, key=tenant.key, body=batch, content_type=content_type)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 3, "duplicates": 0}
    assert [row.event_id for row in stored_events(server.engine)] == [e["id"] for e in batch]


def test_batch_with_leading_whitespace_as_application_json(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    batch = [event("alert.delivered", at=T0)]
    body = b"\n  " + orjson.dumps(batch)
    response = send_events(http, key=tenant.key, body=body, content_type="application/json")
    assert response.json() == {"accepted": 1, "duplicates": 0}


# -- binary mode -------------------------------------------------------------------------


def test_binary_mode_with_percent_encoded_headers_and_extensions(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    headers = binary_headers(
        tenant.key,
        specversion="1.0",
        id="evt%2F1",
        source="https%3A%2F%2Fruntime.example%2Fa%20b",
        type="conversation.message",
        subject="support-bot",
        time="2026-11-26T11%3A55%3A00Z",
        region="caf%C3%A9%20eu",
        traceparent="00-abc-01",
    )
    response = http.post(
        "/v1/events",
        content=orjson.dumps({"conversation_id": "c-1", "sender": "user"}),
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1, "duplicates": 0}

    [row] = stored_events(server.engine)
    assert row.event_id == "evt/1"
    assert row.source == "https://runtime.example/a b"
    assert row.type == "conversation.message"
    assert row.time == to_micros(datetime(2026, 11, 26, 11, 55, tzinfo=UTC))
    assert (row.conversation_id, row.sender) == ("c-1", "user")
    assert row.data == {"conversation_id": "c-1", "sender": "user"}
    assert row.extensions == {"region": "café eu", "traceparent": "00-abc-01"}


def test_binary_mode_header_names_are_case_insensitive(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    headers = {
        **auth(tenant.key),
        "CE-SpecVersion": "1.0",
        "Ce-Id": "b-1",
        "Ce-Source": "runtime",
        "Ce-Type": "conversation.started",
        "Ce-Subject": "support-bot",
        "Ce-Time": "2026-11-26T11:59:00Z",
    }
    response = http.post("/v1/events", content=b'{"conversation_id": "c-9"}', headers=headers)
    assert response.status_code == 200, response.text
    [row] = stored_events(server.engine)
    assert (row.event_id, row.conversation_id, row.extensions) == ("b-1", "c-9", None)


def test_binary_mode_without_a_body_for_an_alert(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    headers = binary_headers(
        tenant.key,
        specversion="1.0",
        id="al-1",
        source="runtime",
        type="alert.delivered",
        subject="support-bot",
        time="2026-11-26T12:00:00Z",
    )
    response = http.post("/v1/events", headers=headers)
    assert response.status_code == 200, response.text
    [row] = stored_events(server.engine)
    assert (row.type, row.event_id) == ("alert.delivered", "al-1")


def test_binary_mode_with_non_json_data_is_refused(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    headers = binary_headers(
        tenant.key,
        specversion="1.0",
        id="b-1",
        source="runtime",
        type="conversation.started",
        subject="support-bot",
        time="2026-11-26T11:59:00Z",
    )
    response = http.post(
        "/v1/events",
        content=b"conversation_id=c-1",
        headers={**headers, "content-type": "text/plain"},
    )
    assert "JSON" in problem(response, 415)["detail"]
    assert stored_events(server.engine) == []


def test_binary_mode_with_malformed_json_data_is_400(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    headers = binary_headers(
        tenant.key,
        specversion="1.0",
        id="b-1",
        source="runtime",
        type="conversation.started",
        subject="support-bot",
        time="2026-11-26T11:59:00Z",
    )
    response = http.post(
        "/v1/events",
        content=b'{"conversation_id": ',
        headers={**headers, "content-type": "application/json"},
    )
    problem(response, 400)
    assert stored_events(server.engine) == []


def test_binary_mode_percent_encoded_nul_is_refused(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    headers = binary_headers(
        tenant.key,
        specversion="1.0",
        id="b%001",
        source="runtime",
        type="conversation.started",
        subject="support-bot",
        time="2026-11-26T11:59:00Z",
    )
    response = http.post("/v1/events", content=b'{"conversation_id": "c-1"}', headers=headers)
    assert error_locs(problem(response, 422)) == [["events", 0, "id"]]
    assert stored_events(server.engine) == []


@pytest.mark.parametrize(
    ("dropped", "field"), [("type", "type"), ("time", "time"), ("id", "id"), ("subject", "subject")]
)
def test_binary_mode_missing_attribute_is_named(
    server: Server, http: httpx.Client, tenant: Tenant, dropped: str, field: str
) -> None:
    attributes = {
        "specversion": "1.0",
        "id": "b-1",
        "source": "runtime",
        "type": "conversation.started",
        "subject": "support-bot",
        "time": "2026-11-26T11:59:00Z",
    }
    del attributes[dropped]
    response = http.post(
        "/v1/events",
        content=b'{"conversation_id": "c-1"}',
        headers={**binary_headers(tenant.key, **attributes), "content-type": "application/json"},
    )
    assert ["events", 0, field] in error_locs(problem(response, 422))
    assert stored_events(server.engine) == []


def test_binary_mode_invalid_data_field_is_named(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    headers = binary_headers(
        tenant.key,
        specversion="1.0",
        id="b-1",
        source="runtime",
        type="conversation.message",
        subject="support-bot",
        time="2026-11-26T11:59:00Z",
    )
    response = http.post(
        "/v1/events",
        content=b'{"conversation_id": "c-1", "sender": "robot"}',
        headers={**headers, "content-type": "application/json"},
    )
    assert ["events", 0, "data", "sender"] in error_locs(problem(response, 422))
    assert stored_events(server.engine) == []


# -- duplicates --------------------------------------------------------------------------


def test_duplicate_with_other_data_changes_nothing(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    first = event(
        "conversation.message", at=T0 - minutes(5), id="m-1", conversation_id="c-1", sender="user"
    )
    second = event(
        "conversation.message", at=T0 - minutes(1), id="m-1", conversation_id="c-2", sender="bot"
    )
    assert send_events(http, key=tenant.key, body=first).json() == {
        "accepted": 1,
        "duplicates": 0,
    }
    assert send_events(http, key=tenant.key, body=second).json() == {
        "accepted": 0,
        "duplicates": 1,
    }
    [row] = stored_events(server.engine)
    assert (row.conversation_id, row.sender, row.time) == (
        "c-1",
        "user",
        to_micros(T0 - minutes(5)),
    )
    assert row.data == {"conversation_id": "c-1", "sender": "user"}


def test_duplicate_within_one_batch_first_wins(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    batch = [
        event("conversation.message", at=T0, id="m-1", conversation_id="c-1", sender="user"),
        event("conversation.message", at=T0, id="m-1", conversation_id="c-1", sender="bot"),
        event("conversation.message", at=T0, id="m-2", conversation_id="c-1", sender="bot"),
    ]
    assert send_events(http, key=tenant.key, body=batch).json() == {
        "accepted": 2,
        "duplicates": 1,
    }
    rows = stored_events(server.engine)
    assert [(row.event_id, row.sender) for row in rows] == [("m-1", "user"), ("m-2", "bot")]


def test_same_id_from_another_source_is_another_event(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    batch = [
        event("conversation.started", at=T0, id="e-1", source="eu", conversation_id="c-1"),
        event("conversation.started", at=T0, id="e-1", source="us", conversation_id="c-2"),
    ]
    assert send_events(http, key=tenant.key, body=batch).json() == {
        "accepted": 2,
        "duplicates": 0,
    }
    rows = stored_events(server.engine)
    assert sorted((row.source, row.conversation_id) for row in rows) == [
        ("eu", "c-1"),
        ("us", "c-2"),
    ]


def test_same_identity_in_another_workspace_is_separate(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    other_id, other_key = make_workspace(server.engine, name="Other")
    add_app(server.engine, workspace_id=other_id, app_id="support-bot")
    sent = event("conversation.started", at=T0, id="e-1", conversation_id="c-1")
    assert send_events(http, key=tenant.key, body=sent).json() == {"accepted": 1, "duplicates": 0}
    assert send_events(http, key=other_key, body=sent).json() == {"accepted": 1, "duplicates": 0}
    assert send_events(http, key=other_key, body=sent).json() == {"accepted": 0, "duplicates": 1}
    rows = stored_events(server.engine)
    assert sorted(row.workspace_id for row in rows) == sorted([tenant.workspace_id, other_id])


def test_duplicate_across_content_modes(server: Server, http: httpx.Client, tenant: Tenant) -> None:
    headers = binary_headers(
        tenant.key,
        specversion="1.0",
        id="e-1",
        source="runtime",
        type="conversation.started",
        subject="support-bot",
        time="2026-11-26T11:59:00Z",
    )
    binary = http.post("/v1/events", content=b'{"conversation_id": "c-1"}', headers=headers)
    assert binary.json() == {"accepted": 1, "duplicates": 0}
    structured = event("conversation.started", at=T0, id="e-1", conversation_id="c-2")
    response = send_events(
        http, key=tenant.key, body=[structured], content_type="application/cloudevents-batch+json"
    )
    assert response.json() == {"accepted": 0, "duplicates": 1}
    [row] = stored_events(server.engine)
    assert row.conversation_id == "c-1"


def test_concurrent_deliveries_of_one_batch_store_it_once(
    server: Server, http: httpx.Client, tenant: Tenant
) -> None:
    batch = [
        event(
            "conversation.message", at=T0 - minutes(n), conversation_id=f"c-{n % 5}", sender="user"
        )
        for n in range(1, 41)
    ]

    def deliver(_: int) -> dict[str, int]:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            response = send_events(client, key=tenant.key, body=batch)
            assert response.status_code == 200, response.text
            result: dict[str, int] = response.json()
            return result

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(deliver, range(4)))
    assert sum(r["accepted"] for r in results) == 40
    assert sum(r["duplicates"] for r in results) == 120
    assert len(stored_events(server.engine)) == 40
