"""Usage reaches the balance and the entitlement answer, over real HTTP (SPEC §3.3, §3.4).

Events go in through POST /v1/events; nothing else is called between them and the reads:
the rating queue written by metering is rated before a balance or an entitlement is read.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from botbill.engine.passes import engine_pass
from botbill.kit.db import unit_of_work
from botbill.kit.instants import to_micros
from botbill.metering.models import RatingQueueEntry
from botbill.plans.catalog import DEFAULT_CATALOG
from botbill.plans.catalog_store import put_plan
from botbill.rating.models import UsageCharge
from tests.conftest import Server
from tests.factories import T0, event, send_events
from tests.wallet.accounts import Tenant, add_funds, entitlement, new_app, subscription, tenant


@pytest.fixture
def acme(server: Server) -> Tenant:
    return tenant(server.engine)


def alerts(http: httpx.Client, who: Tenant, count: int, *, app: str = "support-bot") -> None:
    """``count`` delivered alerts in the hour before now, in batches of at most 500."""
    batch: list[dict[str, Any]] = []
    for n in range(count):
        batch.append(event("alert.delivered", at=T0 - timedelta(minutes=50, seconds=n), app=app))
        if len(batch) == 500 or n == count - 1:
            response = send_events(http, key=who.key, body=batch)
            assert response.status_code == 200, response.text
            batch = []


def notice_types(detail: dict[str, Any]) -> list[str]:
    return [notice["type"] for notice in detail["notices"]]


def charges(server: Server) -> list[tuple[int, int, bool]]:
    """(units, amount, refunded) of every charge, in billing-session order, once the
    engine's pass has rated what is queued (as the server's job does within seconds)."""
    engine_pass(server.engine, server.clock)
    c = UsageCharge
    with unit_of_work(server.engine, write=False) as session:
        rows = session.execute(
            select(c.units, c.amount, c.refunded_at).order_by(c.billing_session_id)
        )
        return [(units, amount, refunded is not None) for units, amount, refunded in rows]


def queued(server: Server) -> int:
    with unit_of_work(server.engine, write=False) as session:
        return session.scalar(select(func.count()).select_from(RatingQueueEntry)) or 0


def test_a_trial_stops_when_its_allowance_is_used_up(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    with unit_of_work(server.engine, write=True) as session:  # an operator's catalog edit
        put_plan(
            session,
            replace(DEFAULT_CATALOG["trial"], included_billing_sessions=3),
            now=to_micros(T0),
        )
    new_app(http, server.engine, acme)  # a trial by default

    alerts(http, acme, 2)
    assert entitlement(http, key=acme.key) == {"active": True}
    detail = subscription(http, key=acme.key)
    assert detail["used"]["billing_sessions"] == 2
    assert detail["status"] == "active"

    alerts(http, acme, 1)
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "allowance_exhausted"}
    assert subscription(http, key=acme.key)["status"] == "inactive"

    alerts(http, acme, 1)  # still counted, never charged money: a trial sells nothing
    detail = subscription(http, key=acme.key)
    assert detail["used"]["billing_sessions"] == 4
    assert detail["balance"]["amount"] == 0
    assert charges(server) == [(1, 0, False)] * 3 + [(0, 0, False)]
    assert queued(server) == 0


def test_pay_as_you_go_runs_low_is_refused_and_comes_back_with_funds(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    new_app(http, server.engine, acme, plan="standard")
    assert add_funds(http, key=acme.key, amount=10_000).status_code == 201

    alerts(http, acme, 251)  # 20 each: 10,000 - 5,020 is below the 5,000 threshold
    detail = subscription(http, key=acme.key)
    assert detail["balance"] == {"amount": 4_980, "currency": "USD"}
    assert "low_balance" in notice_types(detail)
    assert entitlement(http, key=acme.key) == {"active": True}

    alerts(http, acme, 249)
    assert entitlement(http, key=acme.key) == {"active": False, "reason": "insufficient_funds"}
    detail = subscription(http, key=acme.key)
    assert detail["balance"]["amount"] == 0
    assert detail["status"] == "inactive"
    assert "insufficient_funds" in notice_types(detail)

    alerts(http, acme, 1)  # it happened: it is booked, and the balance goes below zero
    assert subscription(http, key=acme.key)["balance"]["amount"] == -20

    assert add_funds(http, key=acme.key, amount=10_000).status_code == 201
    assert entitlement(http, key=acme.key) == {"active": True}
    detail = subscription(http, key=acme.key)
    assert detail["balance"]["amount"] == 9_980
    assert detail["used"]["alert_sessions"] == 501
    assert len(charges(server)) == 501


def test_a_late_event_charges_or_refunds_only_the_difference(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    new_app(http, server.engine, acme, plan="standard")
    assert add_funds(http, key=acme.key, amount=10_000).status_code == 201
    start = T0 - timedelta(hours=3)

    def at(minutes: int) -> Any:
        return start + timedelta(minutes=minutes)

    conversation = [  # 31 minutes of talk: 3 usage sessions
        *(
            event("conversation.message", at=at(m), conversation_id="c1", sender="user")
            for m in (0, 5, 10, 15, 20, 25, 30, 31)
        ),
        event("conversation.ended", at=at(31), conversation_id="c1"),
    ]
    assert send_events(http, key=acme.key, body=conversation).status_code == 200
    assert subscription(http, key=acme.key)["balance"]["amount"] == 10_000 - 3 * 20

    late = [  # 15 minutes with a human agent: 16 minutes of bot time, 2 usage sessions
        event("conversation.transferred", at=at(10), conversation_id="c1"),
        event("conversation.returned", at=at(25), conversation_id="c1"),
    ]
    assert send_events(http, key=acme.key, body=late).status_code == 200
    detail = subscription(http, key=acme.key)
    assert detail["balance"]["amount"] == 10_000 - 2 * 20
    assert detail["used"]["usage_sessions"] == 2
    live = [charge for charge in charges(server) if not charge[2]]
    assert live == [(0, 20, False)] * 2

    assert send_events(http, key=acme.key, body=late + conversation).status_code == 200
    assert subscription(http, key=acme.key)["balance"]["amount"] == 10_000 - 2 * 20  # replays


def test_idle_sessions_are_charged_when_their_timeout_passes(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    new_app(http, server.engine, acme, plan="standard")
    assert add_funds(http, key=acme.key, amount=10_000).status_code == 201
    talk = [
        event(
            "conversation.message", at=T0 - timedelta(minutes=5), conversation_id="c", sender="user"
        ),
        event(
            "conversation.message", at=T0 - timedelta(minutes=4), conversation_id="c", sender="bot"
        ),
    ]
    assert send_events(http, key=acme.key, body=talk).status_code == 200
    assert subscription(http, key=acme.key)["balance"]["amount"] == 10_000  # in progress

    server.clock.set(to_micros(T0 + timedelta(minutes=12)))  # 16 min after the last event
    assert subscription(http, key=acme.key)["balance"]["amount"] == 10_000 - 20
    assert queued(server) == 1  # completed and queued by the read; the rater books it
    assert charges(server) == [(0, 20, False)]
    assert queued(server) == 0
    assert subscription(http, key=acme.key)["balance"]["amount"] == 10_000 - 20


def test_reads_show_queued_charges_without_rating_them(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    other = tenant(server.engine)
    new_app(http, server.engine, acme, plan="standard")
    new_app(http, server.engine, other, plan="standard")
    assert add_funds(http, key=other.key, amount=10_000).status_code == 201
    alerts(http, other, 3)
    assert queued(server) == 3
    assert subscription(http, key=acme.key)["balance"]["amount"] == 0
    assert subscription(http, key=other.key)["balance"]["amount"] == 10_000 - 60
    assert entitlement(http, key=other.key) == {"active": True}
    assert queued(server) == 3  # a read shows the charges; only the rater books them
    assert charges(server) == [(0, 20, False)] * 3
    assert queued(server) == 0
    assert subscription(http, key=other.key)["balance"]["amount"] == 10_000 - 60
