"""Bringing subscriptions current before they are read (periods, renewals, lapses).

A read first asks, in a reading transaction, whether anything is due; only then does it
open a writing one, so the hot path (entitlement checks) stays a read.
"""

from __future__ import annotations

from sqlalchemy import Engine

from botbill.kit.db import unit_of_work
from botbill.kit.instants import Micros
from botbill.orders.providers import CardProvider
from botbill.plans.service import refresh, refresh_due
from botbill.workspaces.service import get_workspace


def bring_current(
    engine: Engine,
    *,
    workspace_id: str,
    app_id: str | None,
    cards: CardProvider,
    now: Micros,
) -> None:
    with unit_of_work(engine, write=False) as session:
        due = refresh_due(session, workspace_id, app_id, now=now)
    if not due:
        return
    with unit_of_work(engine, write=True) as session:
        workspace = get_workspace(session, workspace_id)
        refresh(session, workspace, due, cards=cards, now=now)
