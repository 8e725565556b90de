"""On PostgreSQL, ingest, raters and add-funds running at once lose and double nothing."""

from __future__ import annotations

import random
import threading

from sqlalchemy import Engine

from botbill.kit.clock import FrozenClock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import DAY
from botbill.metering.jobs import run_completion
from botbill.orders.providers import PaymentMethod
from botbill.rating.service import run_rating
from botbill.wallet.service import place_funds_order
from botbill.workspaces.service import get_workspace
from tests.factories import postgresql_only, run_all
from tests.histories import APP_TIMEOUTS, random_history
from tests.metering.factories import NOW, send
from tests.rating.factories import CARDS, check_exactly_once, setup_workspace

DEPOSITS = 4
DEPOSIT = 10_000


@postgresql_only
def test_ingest_raters_and_funds_at_once(db: Engine) -> None:
    workspace_id = setup_workspace(db)
    events = random_history(random.Random(11), now=NOW, span=2 * DAY, conversations=30)
    clock = FrozenClock(NOW)
    writing = threading.Event()
    errors: list[BaseException] = []

    def guarded(work: object) -> threading.Thread:
        def run() -> None:
            try:
                work()  # type: ignore[operator]
            except BaseException as error:  # surfaced below, in the test's thread
                errors.append(error)

        return threading.Thread(target=run)

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        mine = events[:]
        rng.shuffle(mine)  # every writer sends everything: replays and late events
        while mine:
            size = rng.randint(1, 8)
            send(db, workspace_id, mine[:size], now=NOW)
            mine = mine[size:]

    def writers_then_flag() -> None:
        threads = [guarded(lambda seed=seed: writer(seed)) for seed in range(4)]
        run_all(threads)
        writing.set()

    def rater() -> None:
        while not writing.is_set():
            run_completion(db, clock)
            run_rating(db, clock)

    def depositor(app_id: str) -> None:
        for _ in range(DEPOSITS):
            with unit_of_work(db, write=True) as session:
                place_funds_order(
                    session,
                    get_workspace(session, workspace_id),
                    app_id,
                    amount=DEPOSIT,
                    method=PaymentMethod.CARD,
                    token="tok_ok",
                    limits=(DEPOSIT, DEPOSIT),
                    cards=CARDS,
                    now=NOW,
                )

    run_all(
        [
            guarded(writers_then_flag),
            *(guarded(rater) for _ in range(3)),
            *(guarded(lambda app=app: depositor(app)) for app in APP_TIMEOUTS),
        ]
    )
    assert errors == []
    run_completion(db, clock)
    run_rating(db, clock)
    check_exactly_once(db, workspace_id, added=DEPOSITS * DEPOSIT)
