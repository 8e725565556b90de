"""What rating a batch of charges and refunds does to one app, as plain values.

The rater applies an outcome (it writes the charges, the periods' draws and one ledger
entry per direction); a balance read computes the outcome of what is still queued and
adds it to what is booked, without writing or locking anything. One rule, two uses:
a read shows exactly what the rater will book.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from botbill.kit.instants import Micros
from botbill.plans.catalog import ChargeType, Plan
from botbill.rating.rules import Allowance, Draw, after_charge, after_refund, rate_charge


class Charge(NamedTuple):
    """One completed billing session to charge (+1), or one that disappeared to refund (-1)."""

    billing_session_id: int
    type: ChargeType
    start: Micros
    sign: Literal[1, -1]


class PeriodState(NamedTuple):
    """A subscription period as rating needs it: where it starts, its plan, what is left."""

    id: int
    start: Micros
    plan_code: str
    remaining: Allowance


@dataclass(slots=True)
class StoredCharge:
    """A charge already booked: what it took, so that its refund gives exactly that back."""

    period_id: int
    type: ChargeType
    draw: Draw
    refunded: bool


class NewCharge(NamedTuple):
    billing_session_id: int
    type: ChargeType
    start: Micros
    period_id: int
    plan_code: str
    draw: Draw


@dataclass(slots=True)
class PeriodTally:
    """A period's allowance after the outcome, and the sessions it gained or lost."""

    remaining: Allowance
    counts: Counter[ChargeType] = field(default_factory=Counter)


@dataclass(slots=True)
class Outcome:
    tallies: dict[int, PeriodTally]
    new_charges: list[NewCharge] = field(default_factory=list)
    refunded_ids: list[int] = field(default_factory=list)
    ignored: int = 0
    """Charges already booked, and refunds of sessions never charged (or refunded twice)."""
    debit: int = 0
    credit: int = 0

    @property
    def balance_change(self) -> int:
        return self.credit - self.debit


def period_index(starts: Sequence[Micros], instant: Micros) -> int:
    """The period holding ``instant``; before the first period, the first (a backfill)."""
    return max(bisect_right(starts, instant) - 1, 0)


def rate_app(
    charges: Sequence[Charge],
    *,
    periods: Sequence[PeriodState],
    plans: Mapping[str, Plan],
    stored: Mapping[int, StoredCharge],
) -> Outcome:
    """Rate one app's charges and refunds (SPEC §3.3), each session at most once.

    ``periods`` in order of start; ``stored`` the app's booked charges of these sessions.
    Refunds go first (they free allowance), then charges in the order they start, each
    in the period holding its start at that period's plan; a repeated charge or refund
    changes nothing.
    """
    starts = [period.start for period in periods]
    tallies = {period.id: PeriodTally(period.remaining) for period in periods}
    booked = dict(stored)
    outcome = Outcome(tallies)
    for charge in sorted(charges, key=lambda c: (c.sign, c.start, c.billing_session_id)):
        row = booked.get(charge.billing_session_id)
        if charge.sign < 0:
            if row is None or row.refunded:
                outcome.ignored += 1
                continue
            tally = tallies[row.period_id]
            tally.remaining = after_refund(tally.remaining, row.draw)
            tally.counts[row.type] -= 1
            booked[charge.billing_session_id] = StoredCharge(
                row.period_id, row.type, row.draw, refunded=True
            )
            outcome.refunded_ids.append(charge.billing_session_id)
            outcome.credit += row.draw.amount
            continue
        if row is not None:
            outcome.ignored += 1
            continue
        period = periods[period_index(starts, charge.start)]
        tally = tallies[period.id]
        draw = rate_charge(plans[period.plan_code], tally.remaining, charge.type)
        tally.remaining = after_charge(tally.remaining, draw)
        tally.counts[charge.type] += 1
        booked[charge.billing_session_id] = StoredCharge(period.id, charge.type, draw, False)
        outcome.new_charges.append(
            NewCharge(
                charge.billing_session_id,
                charge.type,
                charge.start,
                period.id,
                period.plan_code,
                draw,
            )
        )
        outcome.debit += draw.amount
    return outcome
