"""The ledger's rules as plain functions: balances and promotional credits (SPEC §3.3).

The ledger is append-only; the balance is the sum of its entries, nothing else. Promotional
credits ("lots") are entries with an expiry. Which lot a charge was paid from is not
stored: it follows from the entries in booking order, by these rules:

- A debit is paid from live lots first, soonest-expiring first (ties: the older grant),
  and only then from paid funds. Paid funds may go below zero; lots never do.
- A refund of a usage charge gives back to live lots first, in the reverse order
  (latest-expiring first), up to what each has spent; the rest returns to paid funds.
  Funds, adjustments and other credits are paid funds.
- A lot is live until its expiry instant (exclusive). At expiry its unspent rest lapses:
  a ``promo_lapse`` entry of minus that rest, booked at the expiry instant, referring to
  the grant. Until it is booked, :func:`pending_lapses` says what it will be.
- Promotional credit never pays off a debt that existed before it was granted: it only
  covers debits booked while it is live.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from botbill.kit.instants import Micros


class EntryKind(StrEnum):
    FUNDS = "funds"
    """A paid add-funds order (+)."""
    PROMO_GRANT = "promo_grant"
    """A promotional credit with an expiry (+)."""
    PROMO_LAPSE = "promo_lapse"
    """The unspent rest of a promotional credit at its expiry (-)."""
    USAGE = "usage"
    """Rated billing sessions (-)."""
    USAGE_REFUND = "usage_refund"
    """Charges given back when a recomputation removed their sessions (+)."""
    SEAT_DAYS = "seat_days"
    """Agent seat-days, or their correction when a recomputation changed a day (- or +)."""
    PLAN_FEE = "plan_fee"
    """A plan order paid from the balance (-)."""
    ADJUSTMENT = "adjustment"
    """An operator's correction (+ or -)."""


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    """Booking order: entries are read sorted by ``(at, id)``."""
    at: Micros
    kind: EntryKind
    amount: int
    expires_at: Micros | None = None
    """Set on ``promo_grant`` only."""
    lot: int | None = None
    """On ``promo_lapse``: the ``id`` of the grant that lapsed."""


def balance(entries: Iterable[Entry]) -> int:
    return sum(entry.amount for entry in entries)


@dataclass(slots=True)
class Lot:
    """One promotional credit as the ledger stands."""

    grant_id: int
    granted: int
    granted_at: Micros
    expires_at: Micros
    spent: int = 0
    lapsed: int = 0
    spent_order: list[int] = field(default_factory=list, repr=False)

    @property
    def remaining(self) -> int:
        return self.granted - self.spent - self.lapsed

    def live_at(self, instant: Micros) -> bool:
        return self.granted_at <= instant < self.expires_at and self.lapsed == 0


@dataclass(slots=True)
class Wallet:
    """Paid funds and promotional lots after replaying a ledger."""

    paid: int = 0
    lots: dict[int, Lot] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.paid + sum(lot.remaining for lot in self.lots.values())


def replay(entries: Iterable[Entry]) -> Wallet:
    """Paid funds and each lot, from the entries in booking order ``(at, id)``."""
    wallet = Wallet()
    for entry in sorted(entries, key=lambda e: (e.at, e.id)):
        if entry.kind is EntryKind.PROMO_GRANT:
            if entry.expires_at is None or entry.amount <= 0:
                raise ValueError(f"entry {entry.id}: a promotional grant needs an expiry and > 0")
            wallet.lots[entry.id] = Lot(entry.id, entry.amount, entry.at, entry.expires_at)
        elif entry.kind is EntryKind.PROMO_LAPSE:
            lot = wallet.lots.get(entry.lot) if entry.lot is not None else None
            if lot is None:
                raise ValueError(f"entry {entry.id}: a lapse must refer to an earlier grant")
            lot.lapsed += -entry.amount
        elif entry.amount < 0:
            _spend(wallet, -entry.amount, at=entry.at)
        elif entry.kind is EntryKind.USAGE_REFUND:
            _give_back(wallet, entry.amount, at=entry.at)
        else:
            wallet.paid += entry.amount
    return wallet


def _live(wallet: Wallet, at: Micros) -> list[Lot]:
    lots = [lot for lot in wallet.lots.values() if lot.live_at(at)]
    return sorted(lots, key=lambda lot: (lot.expires_at, lot.grant_id))


def _spend(wallet: Wallet, amount: int, *, at: Micros) -> None:
    for lot in _live(wallet, at):
        if amount == 0:
            return
        taken = min(lot.remaining, amount)
        lot.spent += taken
        amount -= taken
    wallet.paid -= amount


def _give_back(wallet: Wallet, amount: int, *, at: Micros) -> None:
    for lot in reversed(_live(wallet, at)):
        if amount == 0:
            return
        returned = min(lot.spent, amount)
        lot.spent -= returned
        amount -= returned
    wallet.paid += amount


@dataclass(frozen=True, slots=True)
class Lapse:
    """A ``promo_lapse`` entry that is due: book ``-amount`` at ``at`` for ``grant_id``."""

    grant_id: int
    amount: int
    at: Micros


def pending_lapses(entries: Sequence[Entry], now: Micros) -> list[Lapse]:
    """The lapses due by ``now`` and not yet booked, soonest first."""
    wallet = replay(entries)
    booked = {entry.lot for entry in entries if entry.kind is EntryKind.PROMO_LAPSE}
    # The unspent rest at expiry: replay what was booked before the expiry instant.
    due = []
    for lot in wallet.lots.values():
        if lot.expires_at > now or lot.grant_id in booked:
            continue
        before = replay(entry for entry in entries if entry.at < lot.expires_at)
        rest = before.lots[lot.grant_id].remaining
        if rest > 0:
            due.append(Lapse(lot.grant_id, rest, lot.expires_at))
    return sorted(due, key=lambda lapse: (lapse.at, lapse.grant_id))


def effective_balance(entries: Sequence[Entry], now: Micros) -> int:
    """The balance once every lapse due by ``now`` is booked."""
    return balance(entries) - sum(lapse.amount for lapse in pending_lapses(entries, now))


def promotional_remaining(entries: Sequence[Entry], now: Micros) -> list[Lot]:
    """The lots still live at ``now`` with something left, soonest-expiring first."""
    wallet = replay(entries)
    return [lot for lot in _live(wallet, now) if lot.remaining > 0]
