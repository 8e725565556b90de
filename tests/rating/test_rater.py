"""The rater keeps going when one app's rating fails: that app's rows wait, the rest land."""

from __future__ import annotations

from sqlalchemy import Engine, func, select, update

from botbill.kit.clock import FrozenClock
from botbill.kit.db import table_of, unit_of_work
from botbill.kit.instants import DAY, MINUTE, to_micros
from botbill.kit.money import Money
from botbill.metering.models import BillingSession
from botbill.orders.providers import PaymentResult, TestCardProvider
from botbill.plans.models import Subscription
from botbill.rating.models import RatingQueueEntry
from botbill.rating.queue import Rated, enqueue
from botbill.rating.service import run_rating
from botbill.wallet.models import UsageCharge
from tests.factories import T0, add_app, make_workspace

NOW = to_micros(T0)


class DownProvider:
    """A card processor that is down: every charge raises."""

    name = "down"

    def charge(self, *, token: str, amount: Money, order_id: str) -> PaymentResult:
        raise RuntimeError("the card processor is unreachable")


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


def test_one_failing_app_does_not_hold_up_the_others(db: Engine) -> None:
    workspace_id, _ = make_workspace(db)
    add_app(db, workspace_id=workspace_id, app_id="fine-bot", plan="standard")
    add_app(db, workspace_id=workspace_id, app_id="renewing-bot", plan="standard")
    with unit_of_work(db, write=True) as session:
        # renewing-bot is on a fee plan whose period ended: rating renews it by card first.
        session.execute(
            update(Subscription)
            .where(Subscription.app_id == "renewing-bot")
            .values(plan_code="essential", period_end=NOW - DAY, saved_card_token="tok_ok")
        )
        enqueue(
            session,
            workspace_id=workspace_id,
            entries=[
                Rated(app, number, "alert", NOW - MINUTE, 1)
                for number, app in enumerate(["fine-bot", "renewing-bot"] * 3, start=1)
            ],
        )
        # The sessions exist and are completed (the rater checks), as metering leaves them.
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
                for number, app in enumerate(["fine-bot", "renewing-bot"] * 3, start=1)
            ],
        )

    clock = FrozenClock(NOW)
    assert run_rating(db, clock, cards=DownProvider()) == 3
    assert charged(db) == {"fine-bot": 3}
    assert queued(db) == {"renewing-bot": 3}

    assert run_rating(db, clock, cards=TestCardProvider()) == 3  # the processor is back
    assert charged(db) == {"fine-bot": 3, "renewing-bot": 3}
    assert queued(db) == {}
