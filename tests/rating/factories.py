"""Keyword-only factories for the rating tests: a workspace whose apps have funds, and
the check that every completed billing session is charged exactly once."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Engine, func, select

from botbill.apps.schemas import AppCreate
from botbill.apps.service import create_app
from botbill.kit.db import table_of, unit_of_work
from botbill.ledger.balances import balance_of, book
from botbill.ledger.entries import EntryKind
from botbill.ledger.models import Balance, LedgerEntry
from botbill.metering.models import BillingSession, RatingQueueEntry
from botbill.orders.providers import TestCardProvider
from botbill.plans.models import SubscriptionPeriod
from botbill.rating.models import UsageCharge
from tests.factories import make_workspace
from tests.histories import APP_TIMEOUTS
from tests.metering.factories import NOW

CARDS = TestCardProvider()
PLANS = {"chat-bot": "standard", "voice-bot": "trial", "slow-bot": "standard"}
FUNDS = 1_000_000


def setup_workspace(engine: Engine) -> str:
    workspace_id, _ = make_workspace(engine)
    with unit_of_work(engine, write=True) as session:
        for app, timeout in APP_TIMEOUTS.items():
            create_app(
                session,
                workspace_id,
                AppCreate(id=app, name=app, idle_timeout_minutes=timeout, plan=PLANS[app]),
                now=NOW,
            )
            book(
                session,
                workspace_id=workspace_id,
                app_id=app,
                currency="USD",
                kind=EntryKind.FUNDS,
                amount=FUNDS,
                at=NOW,
            )
    return workspace_id


def completed_sessions(engine: Engine, workspace_id: str) -> dict[int, tuple[str, str]]:
    b = table_of(BillingSession).c
    with unit_of_work(engine, write=False) as session:
        rows = session.execute(
            select(b.id, b.app_id, b.type).where(
                b.workspace_id == workspace_id, b.completed.is_(True)
            )
        )
        return {row_id: (app, kind) for row_id, app, kind in rows}


def live_charges(engine: Engine, workspace_id: str) -> dict[int, tuple[str, str, int, int]]:
    c = UsageCharge
    with unit_of_work(engine, write=False) as session:
        rows = session.execute(
            select(c.billing_session_id, c.app_id, c.type, c.units, c.amount).where(
                c.workspace_id == workspace_id, c.refunded_at.is_(None)
            )
        )
        return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def balances(engine: Engine, workspace_id: str) -> dict[str, int]:
    with unit_of_work(engine, write=False) as session:
        return {app: balance_of(session, workspace_id, app, NOW) for app in APP_TIMEOUTS}


def ledger_sums(engine: Engine, workspace_id: str) -> dict[str, int]:
    e = LedgerEntry
    with unit_of_work(engine, write=False) as session:
        rows = session.execute(
            select(e.app_id, func.sum(e.amount))
            .where(e.workspace_id == workspace_id)
            .group_by(e.app_id)
        )
        return {app: int(total) for app, total in rows}


def running_balances_match_the_ledger(engine: Engine, workspace_id: str) -> None:
    e, b = LedgerEntry, Balance
    with unit_of_work(engine, write=False) as session:
        ledger = session.execute(
            select(e.app_id, func.sum(e.amount), func.count())
            .where(e.workspace_id == workspace_id)
            .group_by(e.app_id)
        ).all()
        running = session.execute(
            select(b.app_id, b.amount, b.entries).where(b.workspace_id == workspace_id)
        ).all()
    assert sorted(map(tuple, ledger)) == sorted(map(tuple, running))


def check_exactly_once(engine: Engine, workspace_id: str, *, added: int = 0) -> None:
    """Live charges = completed sessions; balance = ledger = funds (+ ``added``) - charges."""
    sessions = completed_sessions(engine, workspace_id)
    charges = live_charges(engine, workspace_id)
    assert set(charges) == set(sessions)
    assert {i: (app, kind) for i, (app, kind, _, _) in charges.items()} == sessions
    assert balances(engine, workspace_id) == ledger_sums(engine, workspace_id)
    running_balances_match_the_ledger(engine, workspace_id)
    spent = Counter[str]()
    for app, _kind, _units, amount in charges.values():
        spent[app] += amount
    assert balances(engine, workspace_id) == {
        app: FUNDS + added - spent[app] for app in APP_TIMEOUTS
    }
    with unit_of_work(engine, write=False) as session:
        periods = list(session.scalars(select(SubscriptionPeriod)))
        assert not session.scalar(select(func.count()).select_from(RatingQueueEntry))
    for period in periods:  # an allowance never goes below zero, and holds what was drawn
        assert 0 <= period.drawn_billing <= period.included_billing
        assert 0 <= period.drawn_voice <= period.included_voice
        drawn = Counter(
            kind for app, kind, units, _ in charges.values() if app == period.app_id and units
        )
        assert period.drawn_billing == drawn["usage"] + drawn["alert"]
        assert period.drawn_voice == drawn["voice"]
        counted = Counter(kind for app, kind, _, _ in charges.values() if app == period.app_id)
        assert (period.usage_sessions, period.alert_sessions, period.voice_sessions) == (
            counted["usage"],
            counted["alert"],
            counted["voice"],
        )
