"""60 requests a minute and 1,800 an hour per API client, counted in the database."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine, func, select

from botbill.compat.clients import count_request
from botbill.compat.errors import RATE_LIMITED, PlatformError
from botbill.compat.models import ApiClientRequestCount
from botbill.kit.db import unit_of_work
from botbill.kit.instants import MINUTE, SECOND, to_micros
from tests.compat.factories import errors, make_client, platform, token
from tests.conftest import Server
from tests.factories import T0, make_workspace

PATH = "/api/public/bots/getBillingSessionsDetails"
BODY = {"fromDate": "2026-11-26", "toDate": "2026-11-26"}


def test_the_61st_request_of_a_minute_is_refused(server: Server, http: httpx.Client) -> None:
    _, key = make_workspace(server.engine)
    first = platform(token(*make_client(http, key=key, name="first")))
    second = platform(token(*make_client(http, key=key, name="second")))
    server.clock.set(to_micros(T0) + 59 * MINUTE)  # the start of a fresh minute and hour
    for _ in range(60):
        assert http.post(PATH, json=BODY, headers=first).status_code == 200
    assert errors(http.post(PATH, json=BODY, headers=first), 429) == RATE_LIMITED
    assert http.post(PATH, json=BODY, headers=second).status_code == 200
    server.clock.advance(MINUTE - 1)
    errors(http.post(PATH, json=BODY, headers=first), 429)
    server.clock.advance(1)
    assert http.post(PATH, json=BODY, headers=first).status_code == 200


def counted(engine: Engine, client_id: str, *instants: int) -> None:
    with unit_of_work(engine, write=True) as session:
        for now in instants:
            count_request(session, client_id=client_id, now=now)


def test_the_1801st_request_of_an_hour_is_refused(db: Engine) -> None:
    hour = to_micros(T0)
    for minute in range(30):  # 60 a minute, the most the minute limit lets through
        start = hour + minute * MINUTE
        counted(db, "cs-busy", *(start + second * SECOND for second in range(60)))
    with pytest.raises(PlatformError) as caught:
        counted(db, "cs-busy", hour + 59 * MINUTE)
    assert (caught.value.status, caught.value.msg) == (429, RATE_LIMITED)
    counted(db, "cs-busy", hour + 60 * MINUTE)  # the next hour
    counted(db, "cs-other", hour + 59 * MINUTE)
    with unit_of_work(db, write=False) as session:
        rows = session.scalar(select(func.count()).select_from(ApiClientRequestCount))
    assert rows == 4  # each client's current minute and hour: older windows are gone
