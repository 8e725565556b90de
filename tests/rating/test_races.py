"""The two money races found under load, reproduced deterministically on PostgreSQL.

A second connection holds a row lock where a busy server would hold it, so the
interleaving that lost money under load happens every time:

- a seat metered while a rater is between counting a day's seats and committing that
  day's charge must still be charged (it was lost for good: the day was never recounted);
- a balance read while another rater holds the app's queued charges must show them
  (it answered as if they did not exist), and must not wait for that rater.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from botbill.kit.db import unit_of_work
from botbill.kit.instants import DAY, to_micros
from botbill.ledger.balances import balance_of
from botbill.metering.jobs import run_completion
from botbill.metering.models import BillingSession, SeatInterval
from botbill.metering.pending import run_metering
from botbill.orders.providers import TestCardProvider
from botbill.rating.models import SeatDayCharge
from botbill.rating.service import drain, run_rating, run_seat_days
from tests.conftest import Server
from tests.factories import event, send_events
from tests.locks import holding, lock_waiters, postgresql_only
from tests.wallet.accounts import Tenant, add_funds, new_app, subscription, tenant

FUNDS = 100_000
SEAT_DAY = 200  # the standard plan's price of a seat-day
ALERT = 20  # the standard plan's price of an alert session
CARDS = TestCardProvider()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+00:00")


@pytest.fixture
def acme(server: Server, http: httpx.Client) -> Tenant:
    server.clock.set(to_micros(utc("2026-11-26T08:00:00")))
    who = tenant(server.engine)
    new_app(http, server.engine, who, plan="standard")
    assert add_funds(http, key=who.key, amount=FUNDS).status_code == 201
    return who


def send(http: httpx.Client, who: Tenant, events: list[dict[str, object]]) -> None:
    response = send_events(http, key=who.key, body=events)
    assert response.status_code == 200, response.text


def wait_until_blocked(server: Server, table: str) -> None:
    """Until some backend of this database waits for a row lock on ``table``."""
    deadline = time.monotonic() + 20
    while lock_waiters(server.engine, table) == 0:
        assert time.monotonic() < deadline, f"nothing waited on {table}"
        time.sleep(0.02)


@postgresql_only
def test_a_seat_metered_while_its_day_is_being_rated_is_charged(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    server.clock.set(to_micros(utc("2026-11-27T08:00:00")))
    send(
        http,
        acme,
        [
            event("agent.seat_assigned", at=utc("2026-11-26T09:00:00"), agent_id="ana"),
            event("agent.seat_released", at=utc("2026-11-26T17:00:00"), agent_id="ana"),
        ],
    )
    run_metering(server.engine, server.clock)
    failures: list[BaseException] = []

    def rate() -> None:
        try:
            run_seat_days(server.engine, server.clock)
        except BaseException as error:  # surfaced in the test's thread
            failures.append(error)

    # The rater takes the day, counts one seat, then waits to book its charge.
    hold = "SELECT 1 FROM balances WHERE workspace_id = %(ws)s FOR UPDATE"
    with holding(server.engine, hold, ws=acme.workspace_id):
        rater = threading.Thread(target=rate)
        rater.start()
        wait_until_blocked(server, "balances")
        # Meanwhile a second agent's seat on the same day is metered and committed.
        send(
            http,
            acme,
            [
                event("agent.seat_assigned", at=utc("2026-11-26T10:00:00"), agent_id="ben"),
                event("agent.seat_released", at=utc("2026-11-26T11:00:00"), agent_id="ben"),
            ],
        )
        run_metering(server.engine, server.clock)
    rater.join(timeout=30)
    assert not rater.is_alive()
    assert failures == []

    run_seat_days(server.engine, server.clock)
    with unit_of_work(server.engine, write=False) as session:
        seats = session.scalars(select(SeatDayCharge.seats)).all()
    assert seats == [2]
    assert subscription(http, key=acme.key)["balance"]["amount"] == FUNDS - 2 * SEAT_DAY


@postgresql_only
def test_a_balance_read_counts_charges_another_rater_holds(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    server.clock.set(to_micros(utc("2026-11-26T12:00:00")))
    alerts = [
        event("alert.delivered", at=utc("2026-11-26T11:00:00"), alert_id=f"a{n}") for n in range(30)
    ]
    send(http, acme, alerts)
    run_metering(server.engine, server.clock)
    hold = "SELECT 1 FROM rating_queue WHERE workspace_id = %(ws)s FOR UPDATE"
    with holding(server.engine, hold, ws=acme.workspace_id):
        # Answered while the rows are held: the read neither skips them nor waits.
        during = subscription(http, key=acme.key)
        listed = http.get("/v1/subscriptions", headers={"Authorization": f"Bearer {acme.key}"})
    assert during["balance"]["amount"] == FUNDS - 30 * ALERT
    assert during["used"]["billing_sessions"] == 30
    assert listed.json()["items"][0]["balance"]["amount"] == FUNDS - 30 * ALERT

    run_rating(server.engine, server.clock)
    after = subscription(http, key=acme.key)
    assert after["balance"] == during["balance"]
    assert after["used"] == during["used"]


# --- metering, rating and reads interleaved at random --------------------------------

NOW_TEXT = "2026-11-28T12:00:00"
DAY0 = utc("2026-11-26T00:00:00")

Step = tuple[str, int]

send_step = st.tuples(st.just("send"), st.integers(0, 2**31))
steps = st.lists(
    st.one_of(
        send_step,
        st.tuples(st.sampled_from(["meter", "complete", "seat_days"]), st.just(0)),
        st.tuples(st.just("rate"), st.integers(1, 6)),
        st.tuples(st.just("read"), st.integers(0, 2)),  # 0: free; 1, 2: rows held
    ),
    min_size=1,
    max_size=14,
)


def random_events(seed: int) -> list[dict[str, object]]:
    """A few alerts, a conversation and a seat, somewhere in the two days before now."""
    rng = random.Random(seed)
    at = DAY0 + timedelta(minutes=rng.randrange(0, 2 * 24 * 60))
    events: list[dict[str, object]] = [
        event("alert.delivered", at=at + timedelta(minutes=n), alert_id=f"{seed}-{n}")
        for n in range(rng.randint(0, 3))
    ]
    conversation = f"c{seed}"
    length = rng.randint(1, 40)
    events += [
        event("conversation.started", at=at, conversation_id=conversation),
        event("conversation.message", at=at, conversation_id=conversation, sender="user"),
        event(
            "conversation.message",
            at=at + timedelta(minutes=length),
            conversation_id=conversation,
            sender="bot",
        ),
    ]
    agent = rng.choice(["ana", "ben", "cy"])
    hours = rng.randint(1, 30)
    events.append(event("agent.seat_assigned", at=at, agent_id=agent))
    if at + timedelta(hours=hours) < utc(NOW_TEXT):
        events.append(event("agent.seat_released", at=at + timedelta(hours=hours), agent_id=agent))
    return events


def expected_charges(server: Server, workspace_id: str) -> int:
    """The standard plan's price of every completed billing session and ended seat-day,
    from the metered state (no allowance: everything is drawn from the balance)."""
    now = to_micros(utc(NOW_TEXT))
    with unit_of_work(server.engine, write=False) as session:
        sessions = session.scalar(
            select(func.count()).where(
                BillingSession.workspace_id == workspace_id, BillingSession.completed
            )
        )
        seats = session.execute(
            select(SeatInterval.agent_id, SeatInterval.start, SeatInterval.end).where(
                SeatInterval.workspace_id == workspace_id
            )
        ).all()
    seat_days = 0
    day = to_micros(DAY0)
    while day + DAY <= now:
        seat_days += len(
            {agent for agent, start, end in seats if start < day + DAY and (end or now) > day}
        )
        day += DAY
    return ALERT * (sessions or 0) + SEAT_DAY * seat_days


@postgresql_only
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps)
def test_reads_always_show_every_charge_whatever_the_interleaving(
    server: Server, http: httpx.Client, plan: list[Step]
) -> None:
    server.clock.set(to_micros(utc("2026-11-26T00:00:00")))
    who = tenant(server.engine)  # a new workspace per example
    new_app(http, server.engine, who, plan="standard")
    assert add_funds(http, key=who.key, amount=FUNDS).status_code == 201
    server.clock.set(to_micros(utc(NOW_TEXT)))
    for step, argument in plan:
        if step == "send":
            send(http, who, random_events(argument))
        elif step == "meter":
            run_metering(server.engine, server.clock)
        elif step == "complete":
            run_completion(server.engine, server.clock)
        elif step == "rate":
            with unit_of_work(server.engine, write=True) as session:
                drain(session, now=server.clock.now(), limit=argument)
        elif step == "seat_days":
            run_seat_days(server.engine, server.clock)
        elif argument == 0:
            read = subscription(http, key=who.key)["balance"]["amount"]
            assert read == FUNDS - expected_charges(server, who.workspace_id)
        else:  # a rater holds every other queued row while the read runs
            run_metering(server.engine, server.clock)
            run_completion(server.engine, server.clock)
            table = "rating_queue" if argument == 1 else "seat_day_queue"
            hold = f"SELECT 1 FROM {table} WHERE workspace_id = %(ws)s AND id %% 2 = 0 FOR UPDATE"
            with holding(server.engine, hold, ws=who.workspace_id, allow_empty=True):
                read = subscription(http, key=who.key)["balance"]["amount"]
            assert read == FUNDS - expected_charges(server, who.workspace_id)
    run_metering(server.engine, server.clock)
    run_completion(server.engine, server.clock)
    run_rating(server.engine, server.clock)
    run_seat_days(server.engine, server.clock)
    with unit_of_work(server.engine, write=False) as session:
        booked = balance_of(session, who.workspace_id, "support-bot", server.clock.now())
    assert booked == FUNDS - expected_charges(server, who.workspace_id)
    assert subscription(http, key=who.key)["balance"]["amount"] == booked
