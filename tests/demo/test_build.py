"""Building the demo workspace through the real services, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from botbill.auth.service import find_key
from botbill.demo.build import DEMO_NAME, build_demo, find_demo, new_admin_key
from botbill.events.models import Event
from botbill.invoicing.models import Invoice
from botbill.kit.clock import FrozenClock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import to_micros
from botbill.metering.models import BillingSession, RatingQueueEntry
from botbill.orders.models import Order
from botbill.rating.models import UsageCharge
from botbill.subscriptions.overview import overviews
from botbill.workspaces.service import get_workspace, list_apps, list_members
from tests.factories import T0


def test_build_demo_creates_a_metered_workspace(db: Engine) -> None:
    clock = FrozenClock(to_micros(T0))
    reports: list[tuple[int, int]] = []
    demo = build_demo(
        db, clock, days=3, scale=0.3, on_progress=lambda done, total: reports.append((done, total))
    )

    assert demo.events > 500
    assert reports[-1] == (demo.events, demo.events)
    with unit_of_work(db, write=False) as session:
        workspace = get_workspace(session, demo.workspace_id)
        assert (workspace.name, workspace.timezone, workspace.currency) == (
            DEMO_NAME,
            "Asia/Kolkata",
            "USD",
        )
        apps = list_apps(session, demo.workspace_id)
        assert len(apps) == 8
        assert {app.plan for app in apps} == {"trial", "standard", "essential", "advanced"}
        assert {app.idle_timeout_minutes for app in apps} == {5, 15, 30}
        roles = {member.role for member in list_members(session, demo.workspace_id)}
        assert roles == {"owner", "admin", "developer", "shared"}
        stored = session.scalar(
            select(func.count()).select_from(Event).where(Event.workspace_id == demo.workspace_id)
        )
        assert stored == demo.events
        completed = dict(
            session.execute(
                select(BillingSession.type, func.count())
                .where(BillingSession.workspace_id == demo.workspace_id, BillingSession.completed)
                .group_by(BillingSession.type)
            ).all()
        )
        assert set(completed) == {"usage", "alert", "voice"}
        assert all(count > 0 for count in completed.values())
        key = find_key(session, demo.api_key)
        assert key is not None
        assert key.workspace_id == demo.workspace_id
        # every order paid by wire has its invoice, with both profiles filled in
        wired = session.scalars(
            select(Order).where(
                Order.workspace_id == demo.workspace_id, Order.payment_method == "wire"
            )
        ).all()
        assert wired
        assert all(order.payment_status == "paid" for order in wired)
        invoices = session.scalars(
            select(Invoice).where(Invoice.workspace_id == demo.workspace_id)
        ).all()
        assert {invoice.order_id for invoice in invoices} == {order.id for order in wired}
        assert {order.invoice_id for order in wired} == {invoice.id for invoice in invoices}
        for invoice in invoices:
            assert invoice.buyer["legal_name"] == "Demo Bots Private Limited"
            assert invoice.seller["country"] == "FR"
            assert (invoice.tax_rate, invoice.total) == ("0.18", invoice.subtotal + invoice.tax)


def test_an_existing_demo_is_found_and_gets_a_new_key(db: Engine) -> None:
    clock = FrozenClock(to_micros(T0))
    assert find_demo(db) is None
    demo = build_demo(db, clock, days=1, scale=0.1)

    assert find_demo(db) == demo.workspace_id
    secret = new_admin_key(db, clock, demo.workspace_id)
    assert secret != demo.api_key
    with unit_of_work(db, write=False) as session:
        key = find_key(session, secret)
        assert key is not None
        assert (key.workspace_id, key.scope_set) == (demo.workspace_id, frozenset({"admin"}))


def test_the_demo_is_billed_as_if_it_had_run_for_its_days(db: Engine) -> None:
    """Plans began with the history, funds were paid in by wire, fees renewed monthly, and
    every completed session was rated by the time the build returns."""
    clock = FrozenClock(to_micros(T0))
    demo = build_demo(db, clock, days=40, scale=0.2)
    with unit_of_work(db, write=False) as session:
        charged = session.scalar(
            select(func.count())
            .select_from(UsageCharge)
            .where(UsageCharge.workspace_id == demo.workspace_id)
        )
        completed = session.scalar(
            select(func.count())
            .select_from(BillingSession)
            .where(BillingSession.workspace_id == demo.workspace_id, BillingSession.completed)
        )
        assert charged == completed
        assert session.scalar(select(func.count()).select_from(RatingQueueEntry)) == 0
        renewals = session.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.workspace_id == demo.workspace_id, Order.kind == "renewal")
        )
        assert renewals == 4  # two advanced and two essential apps, one month each
        wires = session.scalars(
            select(Order.payment_status).where(
                Order.workspace_id == demo.workspace_id, Order.payment_method == "wire"
            )
        ).all()
        assert len(wires) == 6  # the six paying apps
        assert set(wires) == {"paid"}
        workspace = get_workspace(session, demo.workspace_id)
        apps = list_apps(session, demo.workspace_id)
        found = overviews(session, workspace, apps, now=clock.now(), low_balance=5_000)
    by_app = {overview.app.id: overview for overview in found}
    assert by_app["support-bot"].decision.active
    assert by_app["support-bot"].balance.amount > 0
    assert by_app["onboarding-guide"].decision.reason == "trial_expired"
