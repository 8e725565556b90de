"""SPEC §3.3: the balance is the sum of the ledger; promotional credits go first and lapse."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
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

SIGNED = (EntryKind.SEAT_DAYS, EntryKind.ADJUSTMENT)
"""Kinds booked with either sign: a debit when negative, paid funds when positive."""


KINDS = [FUNDS, GRANT, GRANT, USAGE, USAGE, REFUND, REFUND, EntryKind.PLAN_FEE, *SIGNED]
AMOUNTS = st.one_of(st.integers(1, 8).map(lambda n: n * 250), st.integers(1, 5_000))
"""Round amounts as often as any: they make a debit use up one lot exactly, or two in part."""
REFUNDS = st.integers(1, 1_000)
"""A refund gives back a charge booked before it, so it is mostly smaller than what the lots
spent: which lot it returns to then shows."""


@st.composite
def bookings(draw: st.DrawFn) -> tuple[int, EntryKind, int, int | None]:
    """One entry but its id: ``(at, kind, amount, expires_at)``, over a few days, so that
    promotional lots overlap."""
    at = draw(st.integers(0, 10)) * DAY // 2
    kind = draw(st.sampled_from(KINDS))
    amount = draw(REFUNDS if kind is REFUND else AMOUNTS)
    if kind in (USAGE, EntryKind.PLAN_FEE) or (kind in SIGNED and draw(st.booleans())):
        return at, kind, -amount, None
    if kind is GRANT:
        return at, kind, amount, at + draw(st.integers(1, 10)) * DAY // 2
    return at, kind, amount, None


def numbered(drawn: list[tuple[int, EntryKind, int, int | None]]) -> list[Entry]:
    """Entries with ids in list order: the booking order, which need not follow ``at``."""
    return [
        Entry(index + 1, at, kind, amount, expires_at=expires)
        for index, (at, kind, amount, expires) in enumerate(drawn)
    ]


def ledgers() -> st.SearchStrategy[list[Entry]]:
    """A list of bookings, so that a failing ledger shrinks entry by entry."""
    return st.lists(bookings(), max_size=25).map(numbered)


@dataclass
class ModelLot:
    granted: int
    granted_at: int
    expires_at: int
    spent: int = 0
    lapsed: int = 0


def model(entries: list[Entry]) -> tuple[int, dict[int, ModelLot]]:
    """Paid funds and each promotional lot, by the rules of SPEC §3.3 as docs/rules.md
    states them, written out step by step without the module under test."""
    paid = 0
    lots: dict[int, ModelLot] = {}
    for entry in sorted(entries, key=lambda e: (e.at, e.id)):  # booking order
        # A lot is live from its grant until its expiry (exclusive), unless lapsed.
        live = [
            (lot.expires_at, grant_id)
            for grant_id, lot in lots.items()
            if lot.granted_at <= entry.at < lot.expires_at and lot.lapsed == 0
        ]
        if entry.kind is GRANT:
            assert entry.expires_at is not None
            lots[entry.id] = ModelLot(entry.amount, entry.at, entry.expires_at)
        elif entry.kind is LAPSE:
            assert entry.lot is not None
            lots[entry.lot].lapsed -= entry.amount
        elif entry.amount < 0:
            # A debit: live lots first, soonest-expiring first (ties: the older grant).
            owed = -entry.amount
            for _, grant_id in sorted(live):
                lot = lots[grant_id]
                taken = min(owed, lot.granted - lot.spent - lot.lapsed)
                lot.spent += taken
                owed -= taken
            paid -= owed  # the rest from paid funds, which may go below zero
        elif entry.kind is REFUND:
            # A usage refund: live lots first, latest-expiring first, up to what each spent.
            due = entry.amount
            for _, grant_id in sorted(live, reverse=True):
                lot = lots[grant_id]
                returned = min(due, lot.spent)
                lot.spent -= returned
                due -= returned
            paid += due
        else:  # funds, adjustments, other credits
            paid += entry.amount
    return paid, lots


def replayed(entries: list[Entry]) -> tuple[int, dict[int, ModelLot]]:
    """What :func:`replay` says, in the model's terms."""
    wallet = replay(entries)
    return wallet.paid, {
        grant_id: ModelLot(lot.granted, lot.granted_at, lot.expires_at, lot.spent, lot.lapsed)
        for grant_id, lot in wallet.lots.items()
    }


def model_lapses(lots: dict[int, ModelLot], now: int) -> list[Lapse]:
    """The unspent rest of every lot expired by ``now`` and not lapsed yet (a lot left
    alone after its expiry, its rest at the end is its rest at expiry)."""
    due = [
        Lapse(grant_id, lot.granted - lot.spent, lot.expires_at)
        for grant_id, lot in lots.items()
        if lot.expires_at <= now and lot.lapsed == 0 and lot.granted > lot.spent
    ]
    return sorted(due, key=lambda lapse: (lapse.at, lapse.grant_id))


@given(entries=ledgers(), now=st.integers(0, 12 * DAY))
def test_balance_is_the_sum_and_lots_stay_in_bounds(entries: list[Entry], now: int) -> None:
    wallet = replay(entries)
    assert wallet.total == balance(entries)
    for lot in wallet.lots.values():
        assert 0 <= lot.spent <= lot.granted
    for lapse in pending_lapses(entries, now):
        assert 0 < lapse.amount <= wallet.lots[lapse.grant_id].granted


@given(entries=ledgers(), now=st.integers(0, 12 * DAY))
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


@settings(max_examples=500)  # pure and quick; what it checks shows only in some ledgers
@given(entries=ledgers(), now=st.integers(0, 12 * DAY), data=st.data())
def test_replay_follows_the_rules_whatever_the_input_order(
    entries: list[Entry], now: int, data: st.DataObject
) -> None:
    # Book some of the lapses due by now, as the lifecycle job does: later ids, at expiry.
    due = model_lapses(model(entries)[1], now)
    entries = entries + [
        Entry(1_000 + i, lapse.at, LAPSE, -lapse.amount, lot=lapse.grant_id)
        for i, lapse in enumerate(lapse for lapse in due if data.draw(st.booleans()))
    ]
    shuffled = data.draw(st.permutations(entries))

    # The wallet after each booking, not only at the end, where later bookings may hide
    # a difference (a debit spending again what a refund gave back to the wrong lot).
    ordered = sorted(entries, key=lambda e: (e.at, e.id))
    for count in range(1, len(ordered) + 1):
        so_far = {entry.id for entry in ordered[:count]}
        state = replayed([entry for entry in shuffled if entry.id in so_far])
        assert state == model(ordered[:count]), f"after {ordered[count - 1]}"
    still_due = model_lapses(model(entries)[1], now)
    assert pending_lapses(shuffled, now) == still_due
    assert effective_balance(shuffled, now) == balance(entries) - sum(
        lapse.amount for lapse in still_due
    )


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
