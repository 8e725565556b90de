"""Seat-days over real HTTP: each app's seats charged per local day, once (SPEC §3.3).

The workspace is on Kolkata time; the standard plan charges 200 per seat-day.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from botbill.engine.passes import engine_pass
from botbill.kit.db import unit_of_work
from botbill.kit.instants import from_micros, to_micros
from botbill.rating.models import SeatDayCharge
from tests.conftest import Server
from tests.factories import event, send_events
from tests.wallet.accounts import Tenant, add_funds, new_app, subscription, tenant

FUNDS = 100_000
KOLKATA = ZoneInfo("Asia/Kolkata")


def local(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+05:30")


def seat(kind: str, agent: str, when: str, **fields: Any) -> dict[str, Any]:
    return event(f"agent.seat_{kind}", at=local(when), agent_id=agent, **fields)


@pytest.fixture
def acme(server: Server, http: httpx.Client) -> Tenant:
    server.clock.set(to_micros(local("2026-11-26T08:00:00")))
    who = tenant(server.engine, timezone="Asia/Kolkata")
    new_app(http, server.engine, who, plan="standard")
    assert add_funds(http, key=who.key, amount=FUNDS).status_code == 201
    return who


def charged(http: httpx.Client, who: Tenant) -> int:
    """What the seat-days cost so far, read from the balance."""
    balance: int = subscription(http, key=who.key)["balance"]["amount"]
    return FUNDS - balance


def days(server: Server) -> dict[str, int]:
    """The seat-days booked, once the engine's pass has rated what ended."""
    engine_pass(server.engine, server.clock)
    with unit_of_work(server.engine, write=False) as session:
        rows = session.execute(
            select(SeatDayCharge.day_start, SeatDayCharge.seats).order_by(SeatDayCharge.day_start)
        )
        return {from_micros(start).astimezone(KOLKATA).date().isoformat(): n for start, n in rows}


def send(http: httpx.Client, who: Tenant, events: list[dict[str, Any]]) -> None:
    response = send_events(http, key=who.key, body=events)
    assert response.status_code == 200, response.text


def test_seats_are_charged_per_local_day_once_it_ends(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    server.clock.set(to_micros(local("2026-11-27T23:00:00")))
    send(
        http,
        acme,
        [
            seat("assigned", "ana", "2026-11-26T09:00:00"),
            seat("released", "ana", "2026-11-27T02:00:00"),  # over midnight: two days
            seat("assigned", "ben", "2026-11-26T10:00:00"),
            seat("released", "ben", "2026-11-26T18:00:00"),
            seat("assigned", "cy", "2026-11-27T20:00:00"),  # still seated: today not over
        ],
    )
    assert charged(http, acme) == 2 * 200
    assert days(server) == {"2026-11-26": 2}

    server.clock.set(to_micros(local("2026-11-28T00:30:00")))
    assert charged(http, acme) == 2 * 200 + 2 * 200
    assert days(server) == {"2026-11-26": 2, "2026-11-27": 2}

    # Late: ana left at noon on the 26th; the 27th loses her seat and is refunded.
    send(http, acme, [seat("released", "ana", "2026-11-26T12:00:00")])
    assert charged(http, acme) == 2 * 200 + 1 * 200
    assert days(server) == {"2026-11-26": 2, "2026-11-27": 1}

    # Replays change nothing.
    send(http, acme, [seat("released", "ana", "2026-11-26T12:00:00", id="x")])
    assert charged(http, acme) == 3 * 200


def test_a_seat_still_held_is_charged_for_each_day_that_ends(
    server: Server, http: httpx.Client, acme: Tenant
) -> None:
    server.clock.set(to_micros(local("2026-11-26T12:00:00")))
    send(http, acme, [seat("assigned", "ana", "2026-11-26T09:00:00")])
    assert charged(http, acme) == 0

    server.clock.set(to_micros(local("2026-11-29T10:00:00")))
    assert charged(http, acme) == 3 * 200
    assert days(server) == {"2026-11-26": 1, "2026-11-27": 1, "2026-11-28": 1}

    server.clock.set(to_micros(local("2026-11-30T00:00:00")))
    assert charged(http, acme) == 4 * 200
    assert days(server)["2026-11-29"] == 1

    # Late: she left on the 27th at noon; the 28th and 29th are given back.
    send(http, acme, [seat("released", "ana", "2026-11-27T12:00:00")])
    assert charged(http, acme) == 2 * 200
    assert days(server) == {
        "2026-11-26": 1,
        "2026-11-27": 1,
        "2026-11-28": 0,
        "2026-11-29": 0,
    }
