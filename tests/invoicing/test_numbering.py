"""Invoice numbers under concurrency and crashes (SPEC §4, §7): parallel payments take
consecutive numbers, and a process killed after taking a number leaves no gap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from botbill.invoicing.models import Invoice
from botbill.kit.db import unit_of_work
from botbill.kit.instants import to_micros
from botbill.kit.money import Money
from botbill.orders.models import Order
from botbill.orders.providers import PaymentMethod, PaymentResult, TestCardProvider
from botbill.wallet.service import place_funds_order
from botbill.workspaces.service import get_workspace
from tests.conftest import Server
from tests.factories import T0
from tests.wallet.accounts import Tenant, add_funds, new_app, tenant

CRASH = Path(__file__).with_name("crash_payment.py")


class SlowCards(TestCardProvider):
    """A processor that takes its time, so that the payments' transactions overlap."""

    def charge(self, *, token: str, amount: Money, order_id: str) -> PaymentResult:
        time.sleep(0.05)
        return super().charge(token=token, amount=amount, order_id=order_id)


def numbers(engine: Engine) -> list[str]:
    with unit_of_work(engine, write=False) as session:
        return sorted(session.scalars(select(Invoice.number)))


def pay(engine: Engine, who: Tenant, app_id: str, start: threading.Barrier) -> None:
    start.wait()
    with unit_of_work(engine, write=True) as session:
        place_funds_order(
            session,
            get_workspace(session, who.workspace_id),
            app_id,
            amount=10_000,
            method=PaymentMethod.CARD,
            token=TestCardProvider.OK,
            limits=(10_000, 2_000_000),
            cards=SlowCards(),
            now=to_micros(T0),
        )


def test_parallel_payments_take_consecutive_numbers(server: Server, http: httpx.Client) -> None:
    """16 payments at once across 4 workspaces (2 apps each, 2 payments per app)."""
    payers = []
    for n in range(4):
        who = tenant(server.engine, name=f"W{n}")
        for app_id in ("bot-a", "bot-b"):
            new_app(http, server.engine, who, app_id=app_id, plan="standard")
            payers += [(who, app_id), (who, app_id)]
    start = threading.Barrier(len(payers))
    errors: list[BaseException] = []

    def run(who: Tenant, app_id: str) -> None:
        try:
            pay(server.engine, who, app_id, start)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=payer) for payer in payers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert numbers(server.engine) == [f"INV-2026-{n:06d}" for n in range(1, 17)]
    with unit_of_work(server.engine, write=False) as session:
        invoiced = set(session.scalars(select(Order.invoice_id)))
        assert invoiced == set(session.scalars(select(Invoice.id)))


def test_a_killed_payment_leaves_no_gap(
    server: Server, http: httpx.Client, database_url: str
) -> None:
    who = tenant(server.engine)
    new_app(http, server.engine, who, plan="standard")
    assert add_funds(http, key=who.key).status_code == 201  # INV-…-000001
    env = {**os.environ, "PYTHONPATH": str(CRASH.parents[2] / "src")}
    process = subprocess.Popen(
        [sys.executable, str(CRASH), database_url, who.workspace_id, "support-bot"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("taken ord_"), line
        _, order_id, _ = line.split()
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    with unit_of_work(server.engine, write=False) as session:
        assert session.get(Order, order_id) is None  # nothing of it was committed
    # the retry (a new payment) takes the number the killed process had taken
    retry = add_funds(http, key=who.key)
    assert retry.status_code == 201, retry.text
    assert numbers(server.engine) == ["INV-2026-000001", "INV-2026-000002"]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_payment_waits_for_the_number_a_live_transaction_holds(
    server: Server, http: httpx.Client, database_url: str
) -> None:
    """On PostgreSQL the series row stays locked until the payer commits: a second payer
    waits for it rather than taking a number that could become a gap."""
    who = tenant(server.engine)
    new_app(http, server.engine, who, app_id="bot-a", plan="standard")
    new_app(http, server.engine, who, app_id="bot-b", plan="standard")
    env = {**os.environ, "PYTHONPATH": str(CRASH.parents[2] / "src")}
    process = subprocess.Popen(
        [sys.executable, str(CRASH), database_url, who.workspace_id, "bot-a"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    result: list[int] = []
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("taken ")
        waiter = threading.Thread(
            target=lambda: result.append(add_funds(http, key=who.key, app_id="bot-b").status_code)
        )
        waiter.start()
        waiter.join(timeout=1.5)
        assert waiter.is_alive()  # waiting on the series row
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    waiter.join(timeout=60)
    assert result == [201]
    assert numbers(server.engine) == ["INV-2026-000001"]
