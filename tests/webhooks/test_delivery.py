"""The outbox and the sender, end to end: a change's delivery reaches a real receiver,
signed, once; retried on the schedule; never for a change that rolled back."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy import Engine, func, select, update

from botbill.audit.service import Actor
from botbill.kit.db import unit_of_work
from botbill.kit.instants import Micros
from botbill.webhooks import service
from botbill.webhooks.events import EventType
from botbill.webhooks.models import WebhookDelivery, WebhookEvent
from botbill.webhooks.outbox import announce
from botbill.webhooks.schedule import HOUR, MINUTE, SECOND
from botbill.webhooks.sender import deliver_due, new_client
from tests.factories import make_workspace
from tests.locks import postgresql_only
from tests.webhooks.receiver import receiving


def real_now() -> Micros:
    """The signature's timestamp must be near the real clock for the library to accept."""
    return time.time_ns() // 1_000


def endpoint(
    engine: Engine, workspace_id: str, url: str, *types: EventType, now: Micros
) -> tuple[str, str]:
    """An endpoint's id and secret."""
    with unit_of_work(engine, write=True) as session:
        created = service.create_endpoint(
            session,
            workspace_id,
            url=url,
            event_types=list(types or [EventType.ORDER_PAID]),
            description="",
            production=False,
            actor=Actor.cli(),
            now=now,
        )
        return created.id, created.secret


def announce_order_paid(engine: Engine, workspace_id: str, *, now: Micros) -> str:
    with unit_of_work(engine, write=True) as session:
        event = announce(
            session,
            workspace_id=workspace_id,
            type=EventType.ORDER_PAID,
            data={"order_id": "ord_1", "amount": 25_000, "currency": "USD"},
            now=now,
        )
        assert event is not None
        return event.id


def announce_then_fail(engine: Engine, workspace_id: str, *, now: Micros) -> None:
    with unit_of_work(engine, write=True) as session:
        announce(
            session,
            workspace_id=workspace_id,
            type=EventType.ORDER_PAID,
            data={"order_id": "ord_1"},
            now=now,
        )
        raise RuntimeError("the change failed after announcing")


def deliver(engine: Engine, *, now: Micros, production: bool = False) -> int:
    with new_client() as client:
        return deliver_due(engine, client, now=now, production=production)


def deliveries(engine: Engine) -> list[WebhookDelivery]:
    with unit_of_work(engine, write=False) as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at)))


def test_a_committed_change_is_delivered_once_signed(db: Engine) -> None:
    now = real_now()
    workspace_id, _ = make_workspace(db)
    with receiving() as receiver:
        _, secret = endpoint(db, workspace_id, receiver.url, now=now)
        event_id = announce_order_paid(db, workspace_id, now=now)
        assert deliver(db, now=now) == 1
        assert deliver(db, now=now + HOUR) == 0
    [got] = receiver.received
    assert got.headers["webhook-id"] == event_id
    assert got.headers["webhook-timestamp"] == str(now // SECOND)
    payload = got.verified(secret)
    assert payload["type"] == "order.paid"
    assert payload["data"] == {
        "workspace_id": workspace_id,
        "order_id": "ord_1",
        "amount": 25_000,
        "currency": "USD",
    }
    [delivery] = deliveries(db)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)


def test_a_rolled_back_change_announces_nothing(db: Engine) -> None:
    now = real_now()
    workspace_id, _ = make_workspace(db)
    with receiving() as receiver:
        endpoint(db, workspace_id, receiver.url, now=now)
        with pytest.raises(RuntimeError, match="failed after announcing"):
            announce_then_fail(db, workspace_id, now=now)
        assert deliver(db, now=now + HOUR) == 0
    assert receiver.received == []
    with unit_of_work(db, write=False) as session:
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


def test_a_receiver_failing_four_times_gets_the_event_exactly_once_more(db: Engine) -> None:
    start = real_now()
    workspace_id, _ = make_workspace(db)
    with receiving(500, 503, 404, 302) as receiver:
        _, secret = endpoint(db, workspace_id, receiver.url, now=start)
        announce_order_paid(db, workspace_id, now=start)
        now = start
        assert deliver(db, now=now) == 1
        for wait in (5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR):
            assert deliver(db, now=now + wait - 1) == 0, "not due before its time"
            now += wait
            assert deliver(db, now=now) == 1
        for later in range(1, 5):
            assert deliver(db, now=now + later * 10 * HOUR) == 0
    assert len(receiver.received) == 5
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert all(r.signed_with(secret) for r in receiver.received)
    [delivery] = deliveries(db)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 5, 200)


def test_after_the_eighth_failure_the_delivery_is_failed(db: Engine) -> None:
    now = real_now()
    workspace_id, _ = make_workspace(db)
    with receiving(*[500] * 9) as receiver:
        endpoint(db, workspace_id, receiver.url, now=now)
        announce_order_paid(db, workspace_id, now=now)
        for _ in range(8):
            assert deliver(db, now=now) == 1
            now += 10 * HOUR
        assert deliver(db, now=now + 100 * HOUR) == 0
    assert len(receiver.received) == 8
    [delivery] = deliveries(db)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 8, None)


def test_an_unreachable_receiver_is_retried_with_the_error_kept(db: Engine) -> None:
    now = real_now()
    workspace_id, _ = make_workspace(db)
    with receiving() as receiver:
        gone = receiver.url
    endpoint(db, workspace_id, gone, now=now)
    announce_order_paid(db, workspace_id, now=now)
    assert deliver(db, now=now) == 1
    [delivery] = deliveries(db)
    assert delivery.status == "pending"
    assert delivery.last_status_code is None
    assert delivery.last_error is not None
    assert "ConnectError" in delivery.last_error
    assert delivery.next_attempt_at == now + 5 * SECOND


def test_disabled_endpoints_get_nothing(db: Engine) -> None:
    now = real_now()
    workspace_id, _ = make_workspace(db)
    with receiving() as receiver:
        endpoint_id, _ = endpoint(db, workspace_id, receiver.url, now=now)
        announce_order_paid(db, workspace_id, now=now)
        with unit_of_work(db, write=True) as session:
            service.update_endpoint(
                session,
                workspace_id,
                endpoint_id,
                url=None,
                event_types=None,
                description=None,
                enabled=False,
                production=False,
                actor=Actor.cli(),
                now=now,
            )
        with unit_of_work(db, write=True) as session:
            later = announce(
                session,
                workspace_id=workspace_id,
                type=EventType.ORDER_PAID,
                data={"order_id": "ord_2"},
                now=now,
            )
        assert later is None
        assert deliver(db, now=now + HOUR) == 0
    assert receiver.received == []
    [waiting] = deliveries(db)
    assert waiting.status == "pending"


def test_only_subscribed_types_are_delivered(db: Engine) -> None:
    now = real_now()
    workspace_id, _ = make_workspace(db)
    with receiving() as receiver:
        endpoint(db, workspace_id, receiver.url, EventType.INVOICE_ISSUED, now=now)
        with unit_of_work(db, write=True) as session:
            skipped = announce(
                session,
                workspace_id=workspace_id,
                type=EventType.ORDER_PAID,
                data={"order_id": "ord_1"},
                now=now,
            )
        assert skipped is None
        assert deliver(db, now=now) == 0
    assert receiver.received == []


def test_rotation_changes_the_signing_secret(db: Engine) -> None:
    now = real_now()
    workspace_id, _ = make_workspace(db)
    with receiving() as receiver:
        endpoint_id, old = endpoint(db, workspace_id, receiver.url, now=now)
        with unit_of_work(db, write=True) as session:
            new = service.rotate_secret(
                session, workspace_id, endpoint_id, actor=Actor.cli(), now=now
            ).secret
        announce_order_paid(db, workspace_id, now=now)
        deliver(db, now=now)
    [got] = receiver.received
    assert got.verified(new)["type"] == "order.paid"
    assert not got.signed_with(old)


def test_redirects_are_not_followed(db: Engine) -> None:
    now = real_now()
    workspace_id, _ = make_workspace(db)
    with receiving(301) as receiver:
        endpoint(db, workspace_id, receiver.url, now=now)
        announce_order_paid(db, workspace_id, now=now)
        deliver(db, now=now)
    assert len(receiver.received) == 1
    [delivery] = deliveries(db)
    assert (delivery.status, delivery.last_status_code) == ("pending", 301)


def test_in_production_a_loopback_receiver_is_refused_at_delivery(db: Engine) -> None:
    now = real_now()
    workspace_id, _ = make_workspace(db)
    with receiving() as receiver:
        endpoint(db, workspace_id, receiver.url.replace("127.0.0.1", "localhost"), now=now)
        announce_order_paid(db, workspace_id, now=now)
        assert deliver(db, now=now, production=True) == 1
    assert receiver.received == []
    [delivery] = deliveries(db)
    assert delivery.status == "pending"
    assert delivery.last_error is not None
    assert "is not a public address" in delivery.last_error


def test_a_sender_that_died_holding_a_delivery_is_replaced_after_the_lease(db: Engine) -> None:
    now = real_now()
    workspace_id, _ = make_workspace(db)
    with receiving() as receiver:
        endpoint(db, workspace_id, receiver.url, now=now)
        announce_order_paid(db, workspace_id, now=now)
        with unit_of_work(db, write=True) as session:
            session.execute(
                update(WebhookDelivery).values(claim="dead", next_attempt_at=now + MINUTE)
            )
        assert deliver(db, now=now + 30 * SECOND) == 0
        assert deliver(db, now=now + MINUTE) == 1
    assert len(receiver.received) == 1
    assert deliveries(db)[0].status == "succeeded"


@postgresql_only
def test_two_senders_racing_send_each_delivery_once(db: Engine) -> None:
    now = real_now()
    workspace_id, _ = make_workspace(db)
    with receiving() as receiver:
        endpoint(db, workspace_id, receiver.url, now=now)
        for n in range(60):
            with unit_of_work(db, write=True) as session:
                announce(
                    session,
                    workspace_id=workspace_id,
                    type=EventType.ORDER_PAID,
                    data={"order_id": f"ord_{n}"},
                    now=now,
                )
        barrier = threading.Barrier(2)

        def sender() -> None:
            with httpx.Client(timeout=15) as client:
                barrier.wait()
                while deliver_due(db, client, now=now, production=False, limit=5):
                    pass

        threads = [threading.Thread(target=sender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == 60
    assert len(set(ids)) == 60
    assert {d.status for d in deliveries(db)} == {"succeeded"}


def test_a_deleted_endpoint_takes_its_deliveries_along(db: Engine) -> None:
    now = real_now()
    workspace_id, _ = make_workspace(db)
    with receiving() as receiver:
        endpoint_id, _ = endpoint(db, workspace_id, receiver.url, now=now)
        announce_order_paid(db, workspace_id, now=now)
        with unit_of_work(db, write=True) as session:
            service.delete_endpoint(session, workspace_id, endpoint_id, actor=Actor.cli(), now=now)
        assert deliver(db, now=now) == 0
    assert receiver.received == []
    assert deliveries(db) == []
