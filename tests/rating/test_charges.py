"""``rating.charges.rate``: charging and refunding billing sessions, each exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, update

from botbill.engine.lifecycle import run_lifecycle
from botbill.kit.clock import FrozenClock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import DAY, MINUTE, to_micros
from botbill.ledger.balances import balance_of, book
from botbill.ledger.entries import EntryKind
from botbill.orders.providers import TestCardProvider
from botbill.plans.catalog import ChargeType
from botbill.plans.models import Subscription, SubscriptionPeriod
from botbill.plans.renewals import settle_unpaid_fee
from botbill.plans.switching import change_plan
from botbill.rating.charges import RatingSummary, UsageCharge, rate
from botbill.rating.models import UsageCharge as UsageChargeRow
from botbill.subscriptions.entitlement import Reason
from botbill.subscriptions.service import decision
from botbill.workspaces.service import get_workspace
from tests.factories import T0, add_app, make_workspace

NOW = to_micros(T0)
CARDS = TestCardProvider()
USAGE, ALERT, VOICE = ChargeType.USAGE, ChargeType.ALERT, ChargeType.VOICE


@dataclass(frozen=True)
class Bot:
    workspace_id: str
    app_id: str = "support-bot"


def bot(
    engine: Engine,
    *,
    plan: str,
    funds: int = 0,
    included: int | None = None,
    included_voice: int | None = None,
) -> Bot:
    workspace_id, _ = make_workspace(engine)
    add_app(engine, workspace_id=workspace_id, plan=plan)
    with unit_of_work(engine, write=True) as session:
        if funds:
            book(
                session,
                workspace_id=workspace_id,
                app_id="support-bot",
                currency="USD",
                kind=EntryKind.FUNDS,
                amount=funds,
                at=NOW,
            )
            subscription = session.get(Subscription, (workspace_id, "support-bot"))
            assert subscription is not None
            settle_unpaid_fee(session, subscription, now=NOW)  # what funds landing does
        # A smaller allowance, to reach its end in a few sessions.
        for column, value in (("included_billing", included), ("included_voice", included_voice)):
            if value is not None:
                session.execute(
                    update(SubscriptionPeriod)
                    .where(SubscriptionPeriod.workspace_id == workspace_id)
                    .values({column: value})
                )
    return Bot(workspace_id)


def charge(
    session_id: int, kind: ChargeType = USAGE, *, at: int = NOW, sign: Literal[1, -1] = 1
) -> UsageCharge:
    return UsageCharge(session_id, "support-bot", kind, at - MINUTE, sign)


def run(engine: Engine, app: Bot, *charges: UsageCharge, now: int = NOW) -> RatingSummary:
    with unit_of_work(engine, write=True) as session:
        return rate(session, workspace_id=app.workspace_id, charges=list(charges), now=now)


def balance(engine: Engine, app: Bot, now: int = NOW) -> int:
    with unit_of_work(engine, write=False) as session:
        return balance_of(session, app.workspace_id, app.app_id, now)


def period(engine: Engine, app: Bot) -> tuple[int, int, int, int, int]:
    with unit_of_work(engine, write=False) as session:
        subscription = session.get(Subscription, (app.workspace_id, app.app_id))
        assert subscription is not None
        row = session.get(SubscriptionPeriod, subscription.period_id)
        assert row is not None
        return (
            row.drawn_billing,
            row.drawn_voice,
            row.usage_sessions,
            row.alert_sessions,
            row.voice_sessions,
        )


def answer(engine: Engine, app: Bot, now: int = NOW) -> Reason | None:
    with unit_of_work(engine, write=False) as session:
        workspace = get_workspace(session, app.workspace_id)
        return decision(session, workspace, app.app_id, now=now).reason


def test_pay_as_you_go_draws_every_session_from_the_balance(db: Engine) -> None:
    app = bot(db, plan="standard", funds=10_000)
    summary = run(db, app, charge(1), charge(2, ALERT), charge(3, VOICE))
    assert summary == RatingSummary(charged=3, refunded=0, ignored=0, balance_change=-70)
    assert balance(db, app) == 10_000 - 70
    assert period(db, app) == (0, 0, 1, 1, 1)


def test_the_allowance_goes_first_then_overage(db: Engine) -> None:
    app = bot(db, plan="essential", funds=20_000, included=2)  # the 9,900 fee is paid
    run(db, app, charge(1), charge(2, ALERT), charge(3), charge(4, VOICE))
    assert balance(db, app) == 20_000 - 9_900 - 15 - 30
    assert period(db, app) == (2, 0, 2, 1, 1)


def test_a_refund_gives_back_exactly_what_its_charge_took(db: Engine) -> None:
    app = bot(db, plan="essential", funds=20_000, included=1)
    run(db, app, charge(1), charge(2))  # 1 from the allowance, 2 for 15
    assert run(db, app, charge(2, sign=-1)).balance_change == 15
    assert period(db, app) == (1, 0, 1, 0, 0)
    assert run(db, app, charge(1, sign=-1)).balance_change == 0
    assert period(db, app) == (0, 0, 0, 0, 0)
    assert balance(db, app) == 20_000 - 9_900


def test_repeats_change_nothing(db: Engine) -> None:
    app = bot(db, plan="standard", funds=10_000)
    run(db, app, charge(1))
    assert run(db, app, charge(1), charge(9, sign=-1)).ignored == 2
    run(db, app, charge(1, sign=-1))
    assert run(db, app, charge(1, sign=-1), charge(1)).ignored == 2
    assert balance(db, app) == 10_000


def test_a_backfilled_session_is_rated_by_the_first_plan(db: Engine) -> None:
    app = bot(db, plan="standard", funds=10_000)
    run(db, app, charge(1, VOICE, at=NOW - 20 * DAY))
    assert balance(db, app) == 10_000 - 30
    assert period(db, app)[4] == 1


def test_sessions_are_rated_by_the_plan_in_force_at_their_start(db: Engine) -> None:
    app = bot(db, plan="standard", funds=100_000)
    later = NOW + 3 * DAY
    with unit_of_work(db, write=True) as session:
        workspace = get_workspace(session, app.workspace_id)
        change_plan(
            session,
            workspace,
            app.app_id,
            plan_code="advanced",
            method=None,
            token=None,
            cards=CARDS,
            now=later,
        )
    run(db, app, charge(1, at=later - DAY), charge(2, at=later + DAY), now=later + 2 * DAY)
    with unit_of_work(db, write=False) as session:
        rows = session.execute(
            select(UsageChargeRow.billing_session_id, UsageChargeRow.plan_code)
        ).all()
        plans = dict(rows)
    assert plans == {1: "standard", 2: "advanced"}
    assert balance(db, app, later) == 100_000 - 49_900 - 20  # 2 came from the allowance


def test_a_session_of_the_next_period_waits_for_the_renewal(db: Engine) -> None:
    app = bot(db, plan="essential", funds=30_000, included=1)
    run(db, app, charge(1), charge(2))  # the first period's allowance is used
    next_month = NOW + 31 * DAY
    waiting = run(db, app, charge(3, at=next_month), now=next_month)
    assert (waiting.charged, waiting.waiting) == (0, frozenset({3}))  # rating never renews
    assert balance(db, app, next_month) == 30_000 - 9_900 - 15

    run_lifecycle(db, FrozenClock(next_month), cards=CARDS)  # renewed from the balance
    rated = run(db, app, charge(3, at=next_month), now=next_month)
    assert (rated.charged, rated.waiting) == (1, frozenset())
    assert balance(db, app, next_month) == 30_000 - 2 * 9_900 - 15  # a fresh allowance
    assert period(db, app)[0] == 1


def test_running_out_stops_the_app(db: Engine) -> None:
    app = bot(db, plan="standard", funds=40)
    run(db, app, charge(1))
    assert answer(db, app) is None
    run(db, app, charge(2), charge(3))
    assert balance(db, app) == -20  # sessions that happened are still charged
    assert answer(db, app) is Reason.INSUFFICIENT_FUNDS
    trial = bot(db, plan="trial", included=2, included_voice=2)
    run(db, trial, charge(1), charge(2))
    assert answer(db, trial) is Reason.ALLOWANCE_EXHAUSTED
    assert balance(db, trial) == 0


def test_enterprise_usage_is_tracked_not_charged(db: Engine) -> None:
    workspace_id, _ = make_workspace(db)
    with unit_of_work(db, write=True) as session:
        get_workspace(session, workspace_id).account_type = "enterprise"
    add_app(db, workspace_id=workspace_id, plan="enterprise")
    app = Bot(workspace_id)
    run(db, app, charge(1), charge(2, VOICE))
    assert balance(db, app) == 0
    assert period(db, app) == (0, 0, 1, 0, 1)
    assert answer(db, app) is None


# --- properties -------------------------------------------------------------------------

steps = st.lists(
    st.lists(
        st.tuples(st.integers(1, 12), st.sampled_from(list(ChargeType)), st.sampled_from([1, -1])),
        min_size=1,
        max_size=8,
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=steps)
def test_the_ledger_always_equals_the_charges_standing(
    db: Engine, batches: list[list[tuple[int, ChargeType, Literal[1, -1]]]]
) -> None:
    """Whatever the batches, the balance moved by exactly the standing charges, and the
    period's counters hold exactly what they drew."""
    app = bot(db, plan="essential", funds=20_000, included=3)
    kinds: dict[int, ChargeType] = {}
    for batch in batches:
        # A billing session keeps its type: the engine gives a changed session a new id.
        run(db, app, *[charge(i, kinds.setdefault(i, kind), sign=sign) for i, kind, sign in batch])
    with unit_of_work(db, write=False) as session:
        standing = list(
            session.scalars(
                select(UsageChargeRow).where(
                    UsageChargeRow.workspace_id == app.workspace_id,
                    UsageChargeRow.refunded_at.is_(None),
                )
            )
        )
    assert balance(db, app) == 20_000 - 9_900 - sum(row.amount for row in standing)
    drawn_billing, drawn_voice, usage, alert, voice = period(db, app)
    assert drawn_billing == sum(r.units for r in standing if r.pool == "billing") <= 3
    assert drawn_voice == sum(r.units for r in standing if r.pool == "voice") <= 3
    counts = [sum(1 for r in standing if r.type == t.value) for t in ChargeType]
    assert [usage, alert, voice] == counts
