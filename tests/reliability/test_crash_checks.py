"""The crash test's checks catch what they look for: a gap, a repeat, a series row out of
step, a credit booked twice or for an unpaid order. (The crash rounds themselves only
ever show them passing.)"""

from __future__ import annotations

from bench.crash_check import credits_per_order, numbering

from botbill.ledger.models import LedgerEntry
from botbill.orders.models import Order


def invoices(*sequences: int, year: int = 2026) -> list[tuple[str, str]]:
    return [("invoice", f"INV-{year}-{sequence:06d}") for sequence in sequences]


def test_a_series_from_one_without_gaps_passes() -> None:
    issued = [*invoices(2, 1, 3), ("credit_note", "CN-2026-000001")]

    assert numbering(issued, {("invoice", 2026): 3, ("credit_note", 2026): 1}) == []


def test_a_gap_a_repeat_and_a_series_row_out_of_step_are_reported() -> None:
    gap = numbering(invoices(1, 3), {("invoice", 2026): 3})
    repeat = numbering(invoices(1, 1, 2), {("invoice", 2026): 3})
    ahead = numbering(invoices(1, 2), {("invoice", 2026): 3})

    assert gap == [
        "invoice 2026: numbers [1, 3] have a gap or a repeat",
        "invoice 2026: the series is at 3, 2 issued",
    ]
    assert repeat == ["invoice 2026: numbers [1, 1, 2] have a gap or a repeat"]
    assert ahead == ["invoice 2026: the series is at 3, 2 issued"]


def test_each_year_is_its_own_series() -> None:
    issued = invoices(1, 2) + invoices(1, year=2027)

    assert numbering(issued, {("invoice", 2026): 2, ("invoice", 2027): 1}) == []


def order(order_id: str, status: str, amount: int = 10_000) -> Order:
    return Order(id=order_id, amount=amount, payment_status=status)


def credit(reference: str, amount: int = 10_000) -> LedgerEntry:
    return LedgerEntry(kind="funds", reference=reference, amount=amount, app_id="bot")


def test_one_credit_of_its_amount_per_paid_order_passes() -> None:
    orders = {"ord_1": order("ord_1", "paid"), "ord_2": order("ord_2", "pending")}
    usage = LedgerEntry(kind="usage", reference=None, amount=-20, app_id="bot")

    assert credits_per_order(orders, [credit("ord_1"), usage]) == []


def test_a_double_credit_a_credit_for_an_unpaid_order_and_a_stray_one_are_reported() -> None:
    orders = {
        "ord_1": order("ord_1", "paid"),
        "ord_2": order("ord_2", "pending"),
        "ord_3": order("ord_3", "paid", amount=20_000),
    }
    entries = [credit("ord_1"), credit("ord_1"), credit("ord_2"), credit("ord_3"), credit("x")]

    assert credits_per_order(orders, entries) == [
        "order ord_1: ledger credits [10000, 10000], want [10000]",
        "order ord_2: ledger credits [10000], want []",
        "order ord_3: ledger credits [10000], want [20000]",
        "funds entries for no order: ['x']",
    ]
