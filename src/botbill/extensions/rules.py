"""Who may ask for a plan extension, and where an extension moves a period's end.

Plain functions on plain values (no database, no clock): the service brings the
subscription current, then asks these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta
from enum import StrEnum

from botbill.kit.instants import DAY, Micros, from_micros, to_micros
from botbill.kit.timezones import zone
from botbill.plans.catalog import Plan
from botbill.plans.periods import local_date_text

MIN_DAYS, MAX_DAYS = 1, 30
DECISION_SHOWN_FOR: Micros = 7 * DAY
"""How long ``extension_approved`` / ``extension_rejected`` stay among an app's notices."""


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


def extended_end(end: Micros, days: int, tz: str) -> Micros:
    """``days`` local days after ``end``, at the same local wall-clock time (as trials are
    counted: a DST change in between makes one of those days 23 or 25 hours). A wall time
    that does not exist or happens twice resolves with ``fold=0``."""
    wall = from_micros(end).astimezone(zone(tz)).replace(tzinfo=None) + timedelta(days=days)
    return to_micros(wall.replace(tzinfo=zone(tz), fold=0).astimezone(UTC))


class RefusalKind(StrEnum):
    FORBIDDEN = "forbidden"
    """The plan or account never takes extensions (403)."""
    CONFLICT = "conflict"
    """The subscription's state does not allow one now (409)."""
    DAYS = "days"
    """The number of days asked would not reach the present (422 at ``days``)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    kind: RefusalKind
    message: str


@dataclass(frozen=True, slots=True)
class Standing:
    """What the rules need to know of an app's subscription, brought up to date."""

    plan: Plan
    enterprise_account: bool
    cancelled: bool
    period_end: Micros
    tz: str


def refusal(standing: Standing, *, days: int, now: Micros) -> Refusal | None:
    """Why an extension of ``days`` cannot be asked for (or granted) now, if it cannot.

    Extensions are for plans whose period ends: a fee plan (the current period, or the one
    that just ended without renewing) and the trial (running or just ended). Pay-as-you-go
    periods roll by themselves and contracts are not managed here. An extension must end
    in the future, else it would change nothing.
    """
    plan = standing.plan
    if standing.enterprise_account or plan.contract:
        return Refusal(
            RefusalKind.FORBIDDEN,
            "an enterprise workspace's terms are set by its contract; ask your account manager",
        )
    if not plan.is_trial and plan.fee_amount == 0:
        return Refusal(
            RefusalKind.FORBIDDEN,
            f"the {plan.code} plan is pay-as-you-go: its periods renew by themselves and "
            "have no end to extend",
        )
    if standing.cancelled:
        return Refusal(RefusalKind.CONFLICT, "the subscription is cancelled")
    if extended_end(standing.period_end, days, standing.tz) > now:
        return None
    ended = local_date_text(standing.period_end, standing.tz)
    if extended_end(standing.period_end, MAX_DAYS, standing.tz) <= now:
        return Refusal(
            RefusalKind.CONFLICT,
            f"the {plan.code} plan ended on {ended}, more than {MAX_DAYS} days ago; choose a "
            "plan again instead",
        )
    least = next(
        n
        for n in range(days + 1, MAX_DAYS + 1)
        if extended_end(standing.period_end, n, standing.tz) > now
    )
    return Refusal(
        RefusalKind.DAYS,
        f"the {plan.code} plan ended on {ended}; {days} more days would end in the past "
        f"(ask for at least {least})",
    )
