"""SPEC §3.3: the balance is the sum of the ledger; promotional credits go first and lapse."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from botbill.kit.instants import DAY
from botbill.ledger.entries import (
    Entry,
    EntryKind,
    Lapse,
    balance,
    effective_balance,
    pending_lapses,
    promotional_remaining,
    replay,
)

FUNDS, GRANT, LAPSE = EntryKind.FUNDS, EntryKind.PROMO_GRANT, EntryKind.PROMO_LAPSE
USAGE, REFUND = EntryKind.USAGE, EntryKind.USAGE_REFUND


def test_promotions_are_spent_first_soonest_expiring_first() -> None:
    entries = [
        Entry(1, 0, FUNDS, 10_000),
        Entry(2, 0, GRANT, 1_000, expires_at=30 * DAY),
        Entry(3, 0, GRANT, 500, expires_at=10 * DAY),
        Entry(4, DAY, USAGE, -700),
    ]
    wallet = replay(entries)
    assert (wallet.paid, wallet.lots[3].spent, wallet.lots[2].spent) == (10_000, 500, 200)
    assert balance(entries) == wallet.total == 10_800


def test_the_unspent_rest_lapses_at_expiry() -> None:
    entries = [
        Entry(1, 0, GRANT, 1_000, expires_at=10 * DAY),
        Entry(2, DAY, USAGE, -300),
        Entry(3, 11 * DAY, USAGE, -100),  # after expiry: paid funds go below zero
    ]
    assert pending_lapses(entries, now=9 * DAY) == []
    assert pending_lapses(entries, now=12 * DAY) == [Lapse(1, 700, 10 * DAY)]
    assert balance(entries) == 600
    assert effective_balance(entries, now=12 * DAY) == -100
    booked = [*entries, Entry(4, 10 * DAY, LAPSE, -700, lot=1)]
    assert pending_lapses(booked, now=12 * DAY) == []
    assert balance(booked) == effective_balance(entries, now=12 * DAY)


def test_a_refund_gives_back_to_the_live_promotion() -> None:
    entries = [
        Entry(1, 0, GRANT, 1_000, expires_at=10 * DAY),
        Entry(2, DAY, USAGE, -300),
        Entry(3, 2 * DAY, REFUND, 300),
    ]
    assert replay(entries).lots[1].remaining == 1_000
    assert replay(entries).paid == 0
    assert [lot.grant_id for lot in promotional_remaining(entries, now=3 * DAY)] == [1]


def test_a_promotion_does_not_pay_an_earlier_debt() -> None:
    entries = [Entry(1, 0, USAGE, -500), Entry(2, DAY, GRANT, 1_000, expires_at=5 * DAY)]
    assert effective_balance(entries, now=6 * DAY) == -500


# --- properties ---------------------------------------------------------------------


@st.composite
def ledgers(draw: st.DrawFn) -> list[Entry]:
    entries: list[Entry] = []
    for index in range(draw(st.integers(0, 25))):
        at = draw(st.integers(0, 40)) * DAY // 2
        kind = draw(st.sampled_from([FUNDS, GRANT, USAGE, USAGE, REFUND, EntryKind.PLAN_FEE]))
        amount = draw(st.integers(1, 5_000))
        if kind in (USAGE, EntryKind.PLAN_FEE):
            entries.append(Entry(index + 1, at, kind, -amount))
        elif kind is GRANT:
            expires = at + draw(st.integers(1, 20)) * DAY // 2
            entries.append(Entry(index + 1, at, kind, amount, expires_at=expires))
        else:
            entries.append(Entry(index + 1, at, kind, amount))
    return entries


@given(entries=ledgers(), now=st.integers(0, 30 * DAY))
def test_balance_is_the_sum_and_lots_stay_in_bounds(entries: list[Entry], now: int) -> None:
    wallet = replay(entries)
    assert wallet.total == balance(entries)
    for lot in wallet.lots.values():
        assert 0 <= lot.spent <= lot.granted
    for lapse in pending_lapses(entries, now):
        assert 0 < lapse.amount <= wallet.lots[lapse.grant_id].granted


@given(entries=ledgers(), now=st.integers(0, 30 * DAY))
def test_booking_the_lapses_gives_the_effective_balance(entries: list[Entry], now: int) -> None:
    lapses = pending_lapses(entries, now)
    booked = entries + [
        Entry(1_000 + i, lapse.at, LAPSE, -lapse.amount, lot=lapse.grant_id)
        for i, lapse in enumerate(lapses)
    ]
    assert balance(booked) == effective_balance(entries, now)
    assert pending_lapses(booked, now) == []
    for lot in replay(booked).lots.values():
        if lot.expires_at <= now:
            assert lot.remaining == 0


@given(entries=ledgers(), data=st.data())
def test_order_of_booking_within_an_instant_does_not_change_the_total(
    entries: list[Entry], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(entries))
    assert replay(shuffled).total == replay(entries).total


@given(entries=ledgers())
def test_paid_funds_are_never_spent_while_a_live_promotion_has_credit(
    entries: list[Entry],
) -> None:
    ordered = sorted(entries, key=lambda e: (e.at, e.id))
    for index, entry in enumerate(ordered):
        if entry.amount >= 0:
            continue
        before, after = replay(ordered[:index]), replay(ordered[: index + 1])
        if after.paid < before.paid:  # some of this debit came from paid funds
            assert all(lot.remaining == 0 for lot in after.lots.values() if lot.live_at(entry.at))
