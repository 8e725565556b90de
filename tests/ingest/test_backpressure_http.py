"""Ingest applies backpressure: past ``BOTBILL_MAX_PENDING_EVENTS`` events of a workspace
waiting for metering, a batch is refused whole with 429 and ``Retry-After``, and nothing
of it is stored; once the drain has caught up, the same batch is accepted."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import Engine, func, select

from botbill.app import create_app
from botbill.events.models import Event
from botbill.kit.clock import FrozenClock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import to_micros
from botbill.metering.pending import run_metering
from botbill.settings import Settings
from tests.factories import T0, auth, event, make_app, make_workspace, problem, serving


def stored(engine: Engine) -> int:
    with unit_of_work(engine, write=False) as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


def talk(conversation: str, messages: int) -> list[dict[str, object]]:
    return [
        event(
            "conversation.message",
            at=T0 - timedelta(minutes=30 - n),
            conversation_id=conversation,
            sender="user",
        )
        for n in range(messages)
    ]


def test_a_backlog_past_the_bound_refuses_whole_batches_until_drained(
    database_url: str, db: Engine
) -> None:
    clock = FrozenClock(to_micros(T0))
    settings = Settings(
        environment="test",
        database_url=database_url,
        migrate_on_start=False,
        jobs_enabled=False,
        max_pending_events=5,
    )
    _, key = make_workspace(db)
    with serving(create_app(settings, clock=clock)) as url, httpx.Client(base_url=url) as http:
        make_app(http, key=key)
        first = http.post("/v1/events", json=talk("c1", 3), headers=auth(key))
        assert first.json() == {"accepted": 3, "duplicates": 0}
        second = http.post("/v1/events", json=talk("c2", 2), headers=auth(key))
        assert second.json() == {"accepted": 2, "duplicates": 0}  # 5 wait now: the bound

        batch = talk("c3", 4)
        refused = http.post("/v1/events", json=batch, headers=auth(key))
        body = problem(refused, 429)
        assert refused.headers["retry-after"] == "1"
        assert "wait for metering" in body["detail"]
        assert stored(db) == 5  # nothing of the refused batch

        run_metering(db, clock)  # the worker catches up
        again = http.post("/v1/events", json=batch, headers=auth(key))
        assert again.json() == {"accepted": 4, "duplicates": 0}
        assert stored(db) == 9
