"""POST /v1/events refuses bad input clearly (problem+json naming the place) and stores nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

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

Event = dict[str, Any]


@pytest.fixture
def tenant(server: Server) -> tuple[str, str]:
    """A workspace with the app ``support-bot``: its id and admin key."""
    workspace_id, key = make_workspace(server.engine)
    add_app(server.engine, workspace_id=workspace_id, app_id="support-bot")
    return workspace_id, key


@pytest.fixture
def key(tenant: tuple[str, str]) -> str:
    return tenant[1]


def started(**changes: Any) -> Event:
    return event("conversation.started", at=T0 - minutes(1), conversation_id="c-1") | changes


def message(**data: Any) -> Event:
    return event("conversation.message", at=T0 - minutes(1), **({"conversation_id": "c-1"} | data))


def without(field: str, base: Event | None = None) -> Event:
    result = dict(base or started())
    del result[field]
    return result


def without_data(field: str, base: Event) -> Event:
    result = dict(base)
    result["data"] = {k: v for k, v in base["data"].items() if k != field}
    return result


# (bad event, the place its error names after ["events", index])
BAD_EVENTS: list[tuple[str, Event, list[str]]] = [
    ("unknown type", started(type="conversation.paused"), ["type"]),
    ("type not a string", started(type=7), ["type"]),
    ("type missing", without("type"), ["type"]),
    ("unknown app", started(subject="no-such-bot"), ["subject"]),
    ("another workspace's app", started(subject="their-bot"), ["subject"]),
    ("subject missing", without("subject"), ["subject"]),
    ("subject not an app id", started(subject="bad bot!"), ["subject"]),
    ("id empty", started(id=""), ["id"]),
    ("id of 257 chars", started(id="i" * 257), ["id"]),
    ("id missing", without("id"), ["id"]),
    ("id a number", started(id=17), ["id"]),
    ("id with NUL", started(id="a\x00b"), ["id"]),
    ("source empty", started(source=""), ["source"]),
    ("source of 257 chars", started(source="s" * 257), ["source"]),
    ("source missing", without("source"), ["source"]),
    ("source with NUL", started(source="runtime\x00"), ["source"]),
    ("specversion 0.3", started(specversion="0.3"), ["specversion"]),
    ("specversion a number", started(specversion=1.0), ["specversion"]),
    ("specversion missing", without("specversion"), ["specversion"]),
    ("time missing", without("time"), ["time"]),
    ("time null", started(time=None), ["time"]),
    ("time as a number", started(time=1_795_694_400), ["time"]),
    ("time as a numeric string", started(time="1795694400"), ["time"]),
    ("time naive", started(time="2026-11-26T11:59:00"), ["time"]),
    ("time a date only", started(time="2026-11-26"), ["time"]),
    ("time not RFC 3339", started(time="26/11/2026 11:59"), ["time"]),
    ("time in words", started(time="yesterday"), ["time"]),
    ("time without seconds", started(time="2026-11-26T11:59Z"), ["time"]),
    ("time offset without colon", started(time="2026-11-26T11:59:00+0000"), ["time"]),
    ("data missing", without("data"), ["data"]),
    ("data not an object", started(data="c-1"), ["data"]),
    ("data a list", started(data=[{"conversation_id": "c-1"}]), ["data"]),
    ("conversation_id missing", started(data={}), ["data", "conversation_id"]),
    ("conversation_id empty", started(data={"conversation_id": ""}), ["data", "conversation_id"]),
    (
        "conversation_id of 129 chars",
        started(data={"conversation_id": "c" * 129}),
        ["data", "conversation_id"],
    ),
    ("conversation_id a number", started(data={"conversation_id": 5}), ["data", "conversation_id"]),
    (
        "conversation_id with NUL",
        started(data={"conversation_id": "c\x00"}),
        ["data", "conversation_id"],
    ),
    ("sender missing", message(), ["data", "sender"]),
    ("sender invalid", message(sender="robot"), ["data", "sender"]),
    ("sender upper-case", message(sender="USER"), ["data", "sender"]),
    ("channel invalid", message(sender="user", channel="video"), ["data", "channel"]),
    ("developer a string", message(sender="user", developer="true"), ["data", "developer"]),
    ("developer a number", message(sender="user", developer=1), ["data", "developer"]),
    (
        "transfer agent_id of 129 chars",
        event("conversation.transferred", at=T0, conversation_id="c-1", agent_id="a" * 129),
        ["data", "agent_id"],
    ),
    (
        "alert developer not bool",
        event("alert.delivered", at=T0, developer="no"),
        ["data", "developer"],
    ),
    ("alert_id empty", event("alert.delivered", at=T0, alert_id=""), ["data", "alert_id"]),
    ("seat agent_id missing", event("agent.seat_assigned", at=T0), ["data", "agent_id"]),
    (
        "seat agent_id with NUL",
        event("agent.seat_assigned", at=T0, agent_id="\x00"),
        ["data", "agent_id"],
    ),
    (
        "seat agent_id of 129 chars",
        event("agent.seat_released", at=T0, agent_id="a" * 129),
        ["data", "agent_id"],
    ),
    (
        "returned without conversation_id",
        without_data("conversation_id", event("conversation.returned", at=T0, conversation_id="c")),
        ["data", "conversation_id"],
    ),
]


@pytest.fixture
def other_workspace(server: Server) -> None:
    workspace_id, _ = make_workspace(server.engine, name="Them")
    add_app(server.engine, workspace_id=workspace_id, app_id="their-bot")


@pytest.mark.usefixtures("other_workspace")
@pytest.mark.parametrize(
    ("bad", "place"),
    [(bad, place) for _, bad, place in BAD_EVENTS],
    ids=[name for name, _, _ in BAD_EVENTS],
)
def test_bad_event_alone_is_refused(
    server: Server, http: httpx.Client, key: str, bad: Event, place: list[str]
) -> None:
    response = send_events(http, key=key, body=bad, content_type="application/cloudevents+json")
    body = problem(response, 422)
    locs = error_locs(body)
    assert locs, body
    assert all(loc[:2] == ["events", 0] for loc in locs), locs
    assert ["events", 0, *place] in locs, locs
    assert all(error["msg"] for error in body["errors"])
    assert stored_events(server.engine) == []


@pytest.mark.usefixtures("other_workspace")
@pytest.mark.parametrize(
    ("bad", "place"),
    [(bad, place) for _, bad, place in BAD_EVENTS],
    ids=[name for name, _, _ in BAD_EVENTS],
)
def test_bad_event_refuses_the_whole_batch(
    server: Server, http: httpx.Client, key: str, bad: Event, place: list[str]
) -> None:
    good = [
        event("conversation.started", at=T0 - minutes(3), conversation_id="c-9"),
        event("conversation.message", at=T0 - minutes(2), conversation_id="c-9", sender="user"),
        event("alert.delivered", at=T0 - minutes(2)),
    ]
    batch = [good[0], good[1], bad, good[2]]
    response = send_events(
        http, key=key, body=batch, content_type="application/cloudevents-batch+json"
    )
    body = problem(response, 422)
    locs = error_locs(body)
    assert all(loc[:2] == ["events", 2] for loc in locs), locs
    assert ["events", 2, *place] in locs, locs
    assert "2" in body["detail"]
    assert stored_events(server.engine) == []


def test_every_bad_event_of_a_batch_is_named(server: Server, http: httpx.Client, key: str) -> None:
    batch = [
        started(),
        started(id=""),
        started(),
        message(sender="robot"),
        started(subject="nope"),
    ]
    body = problem(send_events(http, key=key, body=batch), 422)
    locs = error_locs(body)
    assert ["events", 1, "id"] in locs
    assert ["events", 3, "data", "sender"] in locs
    assert {loc[1] for loc in locs} >= {1, 3}
    assert 0 not in {loc[1] for loc in locs}
    assert stored_events(server.engine) == []


def test_workspace_rule_errors_name_each_event(
    server: Server, http: httpx.Client, key: str
) -> None:
    batch = [
        started(),
        started(subject="nope"),
        event("alert.delivered", at=T0 + minutes(6)),
        event("alert.delivered", at=T0 - timedelta(days=36)),
    ]
    body = problem(send_events(http, key=key, body=batch), 422)
    assert error_locs(body) == [
        ["events", 1, "subject"],
        ["events", 2, "time"],
        ["events", 3, "time"],
    ]
    assert "1, 2, 3" in body["detail"]
    assert "nope" in body["errors"][0]["msg"]
    assert "ahead" in body["errors"][1]["msg"]
    assert "35 days" in body["errors"][2]["msg"]
    assert stored_events(server.engine) == []


# -- the time window ---------------------------------------------------------------------

MICRO = timedelta(microseconds=1)
AHEAD = timedelta(minutes=5)
WINDOW = timedelta(days=35)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (AHEAD, True),
        (AHEAD + MICRO, False),
        (AHEAD + timedelta(seconds=1), False),
        (timedelta(hours=2), False),
        (-WINDOW, True),
        (-WINDOW + timedelta(seconds=1), True),
        (-WINDOW - MICRO, False),
        (-WINDOW - timedelta(days=1), False),
    ],
    ids=[
        "exactly 5 min ahead",
        "5 min + 1 us ahead",
        "5 min 1 s ahead",
        "2 h ahead",
        "exactly 35 days old",
        "just inside 35 days",
        "35 days + 1 us old",
        "36 days old",
    ],
)
def test_time_window(
    server: Server, http: httpx.Client, key: str, offset: timedelta, accepted: bool
) -> None:
    at = T0 + offset
    sent = event("conversation.started", at=at, conversation_id="c-1")
    response = send_events(http, key=key, body=sent)
    if accepted:
        assert response.json() == {"accepted": 1, "duplicates": 0}
        [row] = stored_events(server.engine)
        assert row.time == to_micros(at)
    else:
        assert error_locs(problem(response, 422)) == [["events", 0, "time"]]
        assert stored_events(server.engine) == []


def test_time_window_follows_the_server_clock(server: Server, http: httpx.Client, key: str) -> None:
    sent = event("conversation.started", at=T0 + minutes(10), conversation_id="c-1")
    problem(send_events(http, key=key, body=sent), 422)
    server.clock.advance(to_micros(T0 + minutes(5)) - to_micros(T0))
    assert send_events(http, key=key, body=sent).json() == {"accepted": 1, "duplicates": 0}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "i" * 256),
        ("source", "s" * 256),
        ("subject", "b" * 64),
    ],
)
def test_longest_allowed_attributes_are_accepted(
    server: Server, http: httpx.Client, tenant: tuple[str, str], field: str, value: str
) -> None:
    workspace_id, key = tenant
    if field == "subject":
        add_app(server.engine, workspace_id=workspace_id, app_id=value)
    response = send_events(http, key=key, body=started(**{field: value}))
    assert response.json() == {"accepted": 1, "duplicates": 0}
    [row] = stored_events(server.engine)
    assert {"id": row.event_id, "source": row.source, "subject": row.app_id}[field] == value


def test_longest_conversation_and_agent_ids_are_accepted(
    server: Server, http: httpx.Client, key: str
) -> None:
    batch = [
        started(data={"conversation_id": "c" * 128}),
        event("agent.seat_assigned", at=T0, agent_id="a" * 128),
    ]
    assert send_events(http, key=key, body=batch).json() == {"accepted": 2, "duplicates": 0}
    rows = stored_events(server.engine)
    assert rows[0].conversation_id == "c" * 128
    assert rows[1].agent_id == "a" * 128


# -- bodies that are not events ----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"specversion": "1.0", "id": ', "application/cloudevents+json"),
        (b'[{"specversion": "1.0"}', "application/cloudevents-batch+json"),
        (b'{"specversion": "1.0", ', "application/json"),
        (b"[1, 2,", "application/json"),
        (b"{'single': 'quotes'}", "application/json"),
        (b"", "application/json"),
        (b"", "application/cloudevents+json"),
        (b"42", "application/json"),
        (b'"an event"', "application/json"),
        (b"null", "application/json"),
        (b"\xff\xfe{}", "application/json"),
    ],
    ids=[
        "truncated structured",
        "truncated batch",
        "truncated json object",
        "truncated json array",
        "single quotes",
        "empty json",
        "empty structured",
        "a number",
        "a string",
        "null",
        "not utf-8",
    ],
)
def test_malformed_body_is_400(
    server: Server, http: httpx.Client, key: str, body: bytes, content_type: str
) -> None:
    response = send_events(http, key=key, body=body, content_type=content_type)
    problem(response, 400)
    assert stored_events(server.engine) == []


def test_structured_mode_with_an_array_is_422(server: Server, http: httpx.Client, key: str) -> None:
    response = send_events(
        http, key=key, body=[started()], content_type="application/cloudevents+json"
    )
    assert error_locs(problem(response, 422)) == [["events", 0]]
    assert stored_events(server.engine) == []


def test_batch_mode_with_an_object_is_422(server: Server, http: httpx.Client, key: str) -> None:
    response = send_events(
        http, key=key, body=started(), content_type="application/cloudevents-batch+json"
    )
    assert error_locs(problem(response, 422)) == [["events"]]
    assert stored_events(server.engine) == []


def test_batch_entry_that_is_not_an_object(server: Server, http: httpx.Client, key: str) -> None:
    response = send_events(http, key=key, body=[started(), "event", None])
    locs = error_locs(problem(response, 422))
    assert ["events", 1] in locs
    assert ["events", 2] in locs
    assert stored_events(server.engine) == []


@pytest.mark.parametrize("content_type", ["application/cloudevents-batch+json", "application/json"])
def test_empty_batch_is_422(
    server: Server, http: httpx.Client, key: str, content_type: str
) -> None:
    body = problem(send_events(http, key=key, body=[], content_type=content_type), 422)
    assert error_locs(body) == [["events"]]
    assert "empty" in body["detail"]


def test_batch_of_10000_is_accepted_and_10001_is_413(
    server: Server, http: httpx.Client, key: str
) -> None:
    one = event("alert.delivered", at=T0, id="same")
    too_many = send_events(http, key=key, body=[one] * 10_001)
    assert "10000" in problem(too_many, 413)["detail"]
    assert stored_events(server.engine) == []
    at_limit = send_events(http, key=key, body=[one] * 10_000)
    assert at_limit.json() == {"accepted": 1, "duplicates": 9_999}


def test_oversized_batch_is_413_before_validation(
    server: Server, http: httpx.Client, key: str
) -> None:
    response = send_events(http, key=key, body=[{"not": "an event"}] * 10_001)
    problem(response, 413)


LIMIT = 10 * 1024 * 1024


def padded_batch(size: int) -> bytes:
    """A valid batch of exactly ``size`` bytes (padding in an ignored data field)."""
    skeleton = orjson.dumps([event("alert.delivered", at=T0, id="big", pad="")])
    padding = size - len(skeleton)
    assert padding >= 0
    return orjson.dumps([event("alert.delivered", at=T0, id="big", pad="x" * padding)])


def test_body_over_10_mib_is_413(server: Server, http: httpx.Client, key: str) -> None:
    body = padded_batch(LIMIT + 1)
    assert len(body) == LIMIT + 1
    response = send_events(http, key=key, body=body)
    assert "10485760" in problem(response, 413)["detail"]
    assert stored_events(server.engine) == []


def test_streamed_body_over_10_mib_is_413(server: Server, http: httpx.Client, key: str) -> None:
    body = padded_batch(LIMIT + 1)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1 << 20):
            yield body[start : start + (1 << 20)]

    response = http.post(
        "/v1/events",
        content=chunks(),
        headers={**auth(key), "content-type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    problem(response, 413)
    assert stored_events(server.engine) == []


def test_body_of_exactly_10_mib_is_accepted(server: Server, http: httpx.Client, key: str) -> None:
    body = padded_batch(LIMIT)
    response = send_events(http, key=key, body=body)
    assert response.json() == {"accepted": 1, "duplicates": 0}


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "application/cloudevents+xml",
        "application/cloudevents-batch+protobuf",
    ],
)
def test_wrong_content_type_is_415(
    server: Server, http: httpx.Client, key: str, content_type: str
) -> None:
    response = send_events(http, key=key, body=[started()], content_type=content_type)
    problem(response, 415)
    assert stored_events(server.engine) == []


def test_errors_are_capped_but_all_indexes_counted(
    server: Server, http: httpx.Client, key: str
) -> None:
    batch = [started(id="")] * 150
    body = problem(send_events(http, key=key, body=batch), 422)
    assert len(body["errors"]) <= 100
    assert body["detail"].startswith("150 invalid event(s)")
    assert stored_events(server.engine) == []
