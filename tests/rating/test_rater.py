"""The rater keeps going when one app's rating fails (its rows wait, the rest land), and
never renews: sessions after a period's end wait for the lifecycle job."""

from __future__ import annotations

from sqlalchemy import Engine, func, select, update

from botbill.engine.lifecycle import run_lifecycle
from botbill.kit.clock import FrozenClock
from botbill.kit.db import table_of, unit_of_work
from botbill.kit.instants import DAY, MINUTE, to_micros
from botbill.metering.models import BillingSession, RatingQueueEntry
from botbill.metering.outbox import Rated, enqueue
from botbill.orders.models import Order
from botbill.orders.providers import TestCardProvider
from botbill.plans.models import Subscription
from botbill.rating.models import UsageCharge
from botbill.rating.service import run_rating
from tests.factories import T0, add_app, make_workspace

NOW = to_micros(T0)


def queued(engine: Engine) -> dict[str, int]:
    with unit_of_work(engine, write=False) as session:
        rows = session.execute(
            select(RatingQueueEntry.app_id, func.count()).group_by(RatingQueueEntry.app_id)
        )
        return {str(app): int(count) for app, count in rows}


def charged(engine: Engine) -> dict[str, int]:
    with unit_of_work(engine, write=False) as session:
        rows = session.execute(
            select(UsageCharge.app_id, func.count()).group_by(UsageCharge.app_id)
        )
        return {str(app): int(count) for app, count in rows}


def queue_alerts(engine: Engine, workspace_id: str, apps: list[str]) -> None:
    """Three completed alert sessions per app, queued as metering leaves them."""
    numbered = list(enumerate(apps * 3, start=1))
    with unit_of_work(engine, write=True) as session:
        enqueue(
            session,
            workspace_id=workspace_id,
            entries=[Rated(app, number, "alert", NOW - MINUTE, 1) for number, app in numbered],
        )
        session.execute(
            table_of(BillingSession).insert(),
            [
                {
                    "id": number,
                    "workspace_id": workspace_id,
                    "app_id": app,
                    "type": "alert",
                    "ordinal": 0,
                    "start": NOW - MINUTE,
                    "end": NOW - MINUTE,
                    "completed": True,
                }
                for number, app in numbered
            ],
        )


def test_one_failing_app_does_not_hold_up_the_others(db: Engine) -> None:
    workspace_id, _ = make_workspace(db)
    add_app(db, workspace_id=workspace_id, app_id="fine-bot", plan="standard")
    add_app(db, workspace_id=workspace_id, app_id="broken-bot", plan="standard")
    with unit_of_work(db, write=True) as session:  # broken-bot's subscription goes missing
        kept = session.get(Subscription, (workspace_id, "broken-bot"))
        assert kept is not None
        saved = {c.name: getattr(kept, c.name) for c in Subscription.__table__.columns}
        session.delete(kept)
    queue_alerts(db, workspace_id, ["fine-bot", "broken-bot"])

    clock = FrozenClock(NOW)
    assert run_rating(db, clock) == 3
    assert charged(db) == {"fine-bot": 3}
    assert queued(db) == {"broken-bot": 3}

    with unit_of_work(db, write=True) as session:  # repaired
        session.add(Subscription(**saved))
    assert run_rating(db, clock) == 3
    assert charged(db) == {"fine-bot": 3, "broken-bot": 3}
    assert queued(db) == {}


def test_sessions_after_a_period_end_wait_for_the_renewal(db: Engine) -> None:
    workspace_id, _ = make_workspace(db)
    add_app(db, workspace_id=workspace_id, app_id="renewing-bot", plan="standard")
    with unit_of_work(db, write=True) as session:
        # A fee plan whose period ended a day ago; the lifecycle job has not run yet.
        session.execute(
            update(Subscription)
            .where(Subscription.app_id == "renewing-bot")
            .values(plan_code="essential", period_end=NOW - DAY, saved_card_token="tok_ok")
        )
    queue_alerts(db, workspace_id, ["renewing-bot"])

    clock = FrozenClock(NOW)
    assert run_rating(db, clock) == 0  # rating never renews: the sessions wait
    assert queued(db) == {"renewing-bot": 3}
    assert orders(db) == 0

    counts = run_lifecycle(db, clock, cards=TestCardProvider())
    assert counts.rolled == 1
    assert orders(db) == 1  # the renewal, paid by the saved card
    assert run_rating(db, clock) == 3
    assert charged(db) == {"renewing-bot": 3}
    assert queued(db) == {}


def orders(engine: Engine) -> int:
    with unit_of_work(engine, write=False) as session:
        return session.scalar(select(func.count()).select_from(Order)) or 0
