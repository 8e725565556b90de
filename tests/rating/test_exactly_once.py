"""Every completed billing session is charged exactly once, whatever the order of events.

Drawn histories go in as batches, some events late and some sent twice, the rater running
between some of them (so late events refund what was charged before); at the end the live
charges are exactly the completed billing sessions, each counted once, and the balance is
the sum of the ledger. A rebuild refunds and recharges without moving the balance.
"""

from __future__ import annotations

from typing import Any

import pytest
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
from tests.histories import ON_A_DATABASE, sent_histories
from tests.metering.factories import NOW, send
from tests.rating.factories import balances, check_exactly_once, setup_workspace


@pytest.mark.timeout(600)  # a failure shrinks for up to five minutes: leave it the time
@settings(
    max_examples=20,
    deadline=None,
    phases=ON_A_DATABASE,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batches=sent_histories(now=NOW, span=3 * DAY), data=st.data())
def test_every_billing_session_is_charged_exactly_once(
    db: Engine, batches: list[list[dict[str, Any]]], data: st.DataObject
) -> None:
    _clean(db)
    workspace_id = setup_workspace(db)
    for batch in batches:
        send(db, workspace_id, batch, now=NOW)
        # The rater runs between some batches, a part at a time.
        limit = data.draw(st.none() | st.integers(1, 20), label="rater takes")
        if limit is not None:
            with unit_of_work(db, write=True) as session:
                drain(session, now=NOW, limit=limit)
    run_completion(db, FrozenClock(NOW))
    run_rating(db, FrozenClock(NOW))
    check_exactly_once(db, workspace_id)
    before = balances(db, workspace_id)

    with unit_of_work(db, write=True) as session:
        rebuild(session, workspace_id=workspace_id, now=NOW)
    run_rating(db, FrozenClock(NOW))
    check_exactly_once(db, workspace_id)
    assert balances(db, workspace_id) == before
