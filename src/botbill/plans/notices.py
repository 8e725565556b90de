"""A notice beside an app in the Plan list (SPEC §3.6): its type and what it says."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class NoticeType(StrEnum):
    DOWNGRADE_SCHEDULED = "downgrade_scheduled"
    PLAN_EXPIRING = "plan_expiring"
    PLAN_EXPIRED = "plan_expired"
    RENEWAL_FAILED = "renewal_failed"
    LOW_BALANCE = "low_balance"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    PROMO_CREDITS_EXPIRING = "promo_credits_expiring"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_REJECTED = "extension_rejected"


@dataclass(frozen=True, slots=True)
class Notice:
    type: NoticeType
    detail: str
