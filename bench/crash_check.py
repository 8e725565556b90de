"""The crash test's checks, once the last server is up and every request was answered.

Usage and balances go through the soak's exactness check (``bench.soak_check``: the pure
rules applied to the acknowledged events, compared with what the server reports); money
and invoice numbers are read from the database itself, since the promise is about what
is stored: each order placed once per key and paid once, each paid order credited once,
every balance the sum of its ledger, invoice numbers without gap or repeat.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bench.crash_clients import Journal
from bench.soak_check import (
    COUNTS,
    AppCounts,
    acknowledged_events,
    compare,
    expected_counts,
    usage_query,
    window_for,
)
from bench.soak_clients import now_micros
from bench.soak_traffic import LOAD_APPS
from botbill.audit.models import AuditEntry
from botbill.audit.service import Action
from botbill.invoicing.models import Invoice, InvoiceSeries
from botbill.kit.instants import Micros
from botbill.ledger.entries import EntryKind
from botbill.ledger.models import Balance, LedgerEntry
from botbill.orders.models import IdempotencyRecord, Order

SETTLE_LIMIT = 180.0
"""Seconds the background worker gets to catch up after the last restart."""


def funds_paid(journal: Journal) -> dict[str, int]:
    """Per app, what the client was told landed: paid card orders and confirmed wires."""
    funds = {app.id: 0 for app in LOAD_APPS}
    for order in journal.orders.values():
        if order["payment_status"] == "paid":
            funds[order["app_id"]] += order["amount"]
    for order in journal.confirmed.values():
        funds[order["app_id"]] += order["amount"]
    return funds


def expected_usage(work: Path) -> tuple[dict[str, AppCounts], tuple[Micros, Micros]]:
    now = now_micros()
    window = window_for(now)
    idle = {app.id: app.idle_timeout_minutes for app in LOAD_APPS}
    return expected_counts(acknowledged_events(work), idle, now=now, window=window), window


def settle(
    http: httpx.Client,
    expected: Mapping[str, AppCounts],
    funds: Mapping[str, int],
    window: tuple[Micros, Micros],
) -> float:
    """Wait until the all-apps totals and every balance are what the reference says (or
    the limit passes; the full comparison then reports what differs); returns seconds."""
    want_totals = {name: sum(getattr(c, name) for c in expected.values()) for name in COUNTS}
    want_balances = {app: funds[app] - counts.charges for app, counts in expected.items()}
    started = time.monotonic()
    while time.monotonic() - started < SETTLE_LIMIT:
        usage = http.get("/v1/usage", params=usage_query(window)).raise_for_status().json()
        plans = http.get("/v1/subscriptions", params={"limit": 100}).raise_for_status().json()
        balances = {item["app_id"]: item["balance"]["amount"] for item in plans["items"]}
        totals = {name: usage["totals"][name] for name in COUNTS}
        if totals == want_totals and balances == want_balances:
            break
        time.sleep(0.5)
    return time.monotonic() - started


def check_usage(http: httpx.Client, work: Path, journal: Journal) -> tuple[list[str], float]:
    """The soak's comparison once the server caught up: counts, billing-session list and
    balances (funds paid minus the rules' charges)."""
    expected, window = expected_usage(work)
    funds = funds_paid(journal)
    waited = settle(http, expected, funds, window)
    time.sleep(1)  # still exact a moment later: nothing is charged twice after the match
    mismatches, _ = compare(http, expected, funds, window)
    return mismatches, waited


def check_money(engine: Engine, workspace_id: str, journal: Journal) -> list[str]:
    """Orders, ledger, balances, audit and invoice numbers, read from the database."""
    problems: list[str] = []
    with Session(engine) as session:
        orders = {
            order.id: order
            for order in session.scalars(select(Order).where(Order.workspace_id == workspace_id))
        }
        keys = {
            record.key: record
            for record in session.scalars(
                select(IdempotencyRecord).where(IdempotencyRecord.workspace_id == workspace_id)
            )
        }
        entries = list(
            session.scalars(select(LedgerEntry).where(LedgerEntry.workspace_id == workspace_id))
        )
        problems += _orders(journal, orders, keys)
        problems += credits_per_order(orders, entries)
        problems += _balances(session, workspace_id, entries)
        problems += _audit(session, workspace_id, orders)
        problems += _invoices(session, orders)
    return problems


def _orders(
    journal: Journal, orders: Mapping[str, Order], keys: Mapping[str, IdempotencyRecord]
) -> list[str]:
    problems = []
    answered = {key: order["id"] for key, order in journal.orders.items()}
    if len(set(answered.values())) != len(answered):
        problems.append("two idempotency keys were answered with the same order")
    if set(orders) != set(answered.values()):
        extra = sorted(set(orders) - set(answered.values()))
        missing = sorted(set(answered.values()) - set(orders))
        problems.append(f"orders stored but never answered {extra}, answered but absent {missing}")
    for key, order_id in answered.items():
        record = keys.get(key)
        if record is None or record.response.get("id") != order_id:
            problems.append(f"key {key}: its stored answer is not order {order_id}")
    if set(keys) != set(answered):
        problems.append(f"{len(keys)} keys stored, {len(answered)} answered")
    for order in orders.values():
        confirmed = order.id in journal.confirmed
        if order.payment_method == "wire" and not confirmed:
            problems.append(f"wire order {order.id} was never confirmed to the client")
        if order.payment_status != "paid":
            problems.append(f"order {order.id} is {order.payment_status}, not paid")
    return problems


def credits_per_order(orders: Mapping[str, Order], entries: list[LedgerEntry]) -> list[str]:
    """One funds entry per paid order, of its amount; none for anything else."""
    problems = []
    credits: dict[str | None, list[int]] = defaultdict(list)
    for entry in entries:
        if entry.kind == EntryKind.FUNDS.value:
            credits[entry.reference].append(entry.amount)
    for order in orders.values():
        want = [order.amount] if order.payment_status == "paid" else []
        if credits.get(order.id, []) != want:
            problems.append(
                f"order {order.id}: ledger credits {credits.get(order.id)}, want {want}"
            )
    strays = set(credits) - set(orders)
    if strays:
        problems.append(f"funds entries for no order: {sorted(map(str, strays))}")
    return problems


def _balances(session: Session, workspace_id: str, entries: list[LedgerEntry]) -> list[str]:
    problems = []
    sums: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for entry in entries:
        sums[entry.app_id] += entry.amount
        counts[entry.app_id] += 1
    for balance in session.scalars(select(Balance).where(Balance.workspace_id == workspace_id)):
        app = balance.app_id
        if (balance.amount, balance.entries) != (sums[app], counts[app]):
            problems.append(
                f"{app}: balance {balance.amount} over {balance.entries} entries, "
                f"the ledger sums {sums[app]} over {counts[app]}"
            )
    return problems


def _audit(session: Session, workspace_id: str, orders: Mapping[str, Order]) -> list[str]:
    """An audit entry per order placed and per wire confirmed: none lost, none twice."""
    rows = session.execute(
        select(AuditEntry.action, func.count())
        .where(AuditEntry.workspace_id == workspace_id)
        .group_by(AuditEntry.action)
    ).all()
    tally: dict[str, int] = dict(rows)
    problems = []
    placed = tally.get(Action.FUNDS_ADDED.value, 0)
    if placed != len(orders):
        problems.append(f"{placed} funds.added audit entries for {len(orders)} orders")
    wires = sum(order.payment_method == "wire" for order in orders.values())
    confirmed = tally.get(Action.ORDER_PAYMENT_CONFIRMED.value, 0)
    if confirmed != wires:
        problems.append(f"{confirmed} payment confirmations audited for {wires} wire orders")
    return problems


def _invoices(session: Session, orders: Mapping[str, Order]) -> list[str]:
    """Every paid order has one issued invoice; each series runs 1..n, as the series row
    says (the database is the run's own: every invoice in it is the run's)."""
    problems = []
    invoices = list(session.scalars(select(Invoice)))
    by_order = Counter(invoice.order_id for invoice in invoices)
    for order in orders.values():
        if by_order.get(order.id, 0) != 1 or order.invoice_id is None:
            problems.append(f"order {order.id}: {by_order.get(order.id, 0)} invoices")
    last = {(row.kind, row.year): row.last_number for row in session.scalars(select(InvoiceSeries))}
    return problems + numbering([(i.kind, i.number) for i in invoices], last)


def numbering(issued: list[tuple[str, str]], last: Mapping[tuple[str, int], int]) -> list[str]:
    """Each series (kind and year) of the ``(kind, number)`` issued runs 1..n without a
    gap or a repeat, and its row says n."""
    problems = []
    numbers: dict[tuple[str, int], list[int]] = defaultdict(list)
    for kind, number in issued:
        _, year, sequence = number.split("-")
        numbers[(kind, int(year))].append(int(sequence))
    for series, taken in sorted(numbers.items()):
        name = f"{series[0]} {series[1]}"
        if sorted(taken) != list(range(1, len(taken) + 1)):
            problems.append(f"{name}: numbers {sorted(taken)} have a gap or a repeat")
        if last.get(series) != len(taken):
            problems.append(f"{name}: the series is at {last.get(series)}, {len(taken)} issued")
    return problems
