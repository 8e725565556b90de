"""The consistency rule of each read (docs/rules.md, "Reads under load"):

- entitlement answers from committed state in one snapshot, never waits on metering,
  rating or another transaction's locks, and says with ``as_of`` how far its usage is
  settled;
- usage, billing-session and subscription reads still reflect every event acknowledged
  before them, without waiting on a drainer's row lock.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import httpx

from botbill.engine.passes import engine_pass
from botbill.kit.instants import to_micros
from tests.conftest import Server
from tests.factories import T0, auth, event, send_events
from tests.locks import holding, lock_waiters, postgresql_only
from tests.wallet.accounts import Tenant, funded_app, tenant

HELD = "SELECT 1 FROM metering_pending WHERE workspace_id = %(ws)s FOR UPDATE"


def talk(http: httpx.Client, who: Tenant, conversation: str, minutes_ago: int) -> None:
    at = T0 - timedelta(minutes=minutes_ago)
    events = [
        event("conversation.message", at=at, conversation_id=conversation, sender="user"),
        event("conversation.ended", at=at + timedelta(minutes=1), conversation_id=conversation),
    ]
    response = send_events(http, key=who.key, body=events)
    assert response.status_code == 200, response.text


def answer(http: httpx.Client, who: Tenant) -> dict[str, object]:
    response = http.get("/v1/apps/support-bot/entitlement", headers=auth(who.key))
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_entitlement_says_how_far_its_usage_is_settled(server: Server, http: httpx.Client) -> None:
    who = tenant(server.engine)
    funded_app(http, server.engine, who, plan="standard", amount=10_000)
    assert answer(http, who)["as_of"] == "2026-11-26T12:00:00Z"  # nothing waits: now

    talk(http, who, "c1", minutes_ago=30)  # acknowledged at 12:00, metering left pending
    server.clock.advance(to_micros(T0 + timedelta(seconds=3)) - server.clock.now())
    behind = answer(http, who)
    assert behind == {"active": True, "as_of": "2026-11-26T12:00:00Z"}  # 3 s behind

    engine_pass(server.engine, server.clock)  # the worker meters it
    assert answer(http, who)["as_of"] == "2026-11-26T12:00:03Z"


@postgresql_only
def test_entitlement_never_waits_on_a_drainer(server: Server, http: httpx.Client) -> None:
    who = tenant(server.engine)
    funded_app(http, server.engine, who, plan="standard", amount=10_000)
    talk(http, who, "c1", minutes_ago=30)
    with holding(server.engine, HELD, ws=who.workspace_id):  # a drainer is metering it
        started = time.monotonic()
        held = answer(http, who)
        assert time.monotonic() - started < 2
    assert held == {"active": True, "as_of": "2026-11-26T12:00:00Z"}


@postgresql_only
def test_a_usage_read_waits_for_a_drainer_without_a_lock_wait(
    server: Server, http: httpx.Client
) -> None:
    who = tenant(server.engine)
    funded_app(http, server.engine, who, plan="standard", amount=10_000)
    talk(http, who, "c1", minutes_ago=30)
    read: dict[str, object] = {}

    def usage() -> None:
        response = http.get("/v1/usage?range=24h", headers=auth(who.key))
        read.update(status=response.status_code, body=response.json())

    with holding(server.engine, HELD, ws=who.workspace_id):
        reader = threading.Thread(target=usage)
        reader.start()
        time.sleep(0.5)
        assert reader.is_alive()  # it waits for the drainer's rows to be metered ...
        assert lock_waiters(server.engine, "metering_pending") == 0  # ... not on their lock
    # The drainer gave up its rows (rolled back): the read takes and meters them itself.
    reader.join(timeout=15)
    assert not reader.is_alive()
    assert read["status"] == 200
    totals = read["body"]["totals"]  # type: ignore[index]
    assert totals["usage_sessions"] == 1
    assert datetime.fromisoformat(str(read["body"]["to"]))  # type: ignore[index]
