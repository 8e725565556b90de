"""Every completed billing session is charged exactly once, whatever the order of events.

Random histories go in as shuffled batches with duplicates, the rater running at random
points between them (so late events refund what was charged before); at the end the live
charges are exactly the completed billing sessions, each counted once, and the balance is
the sum of the ledger. A rebuild refunds and recharges without moving the balance.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from botbill.engine.rebuild import rebuild
from botbill.kit.clock import FrozenClock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import DAY
from botbill.metering.jobs import run_completion
from botbill.rating.service import drain, run_rating
from tests.conftest import _clean
from tests.histories import random_history, shuffled_batches
from tests.metering.factories import NOW, send
from tests.rating.factories import balances, check_exactly_once, setup_workspace


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1))
def test_every_billing_session_is_charged_exactly_once(db: Engine, seed: int) -> None:
    _clean(db)
    rng = random.Random(seed)
    workspace_id = setup_workspace(db)
    events = random_history(rng, now=NOW, span=3 * DAY, conversations=25)
    for batch in shuffled_batches(rng, events):
        send(db, workspace_id, batch, now=NOW)
        if rng.random() < 0.3:  # the rater runs between some batches, a part at a time
            with unit_of_work(db, write=True) as session:
                drain(session, now=NOW, limit=rng.randint(1, 20))
    run_completion(db, FrozenClock(NOW))
    run_rating(db, FrozenClock(NOW))
    check_exactly_once(db, workspace_id)
    before = balances(db, workspace_id)

    with unit_of_work(db, write=True) as session:
        rebuild(session, workspace_id=workspace_id, now=NOW)
    run_rating(db, FrozenClock(NOW))
    check_exactly_once(db, workspace_id)
    assert balances(db, workspace_id) == before
