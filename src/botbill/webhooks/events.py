"""The event types a webhook endpoint may subscribe to (SPEC §8): every notice of §3.6
under its own name, and the changes of orders, invoices and entitlement."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
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
    INVOICE_ISSUED = "invoice.issued"
    INVOICE_VOIDED = "invoice.voided"
    ORDER_PAID = "order.paid"
    ORDER_FAILED = "order.failed"
    ENTITLEMENT_CHANGED = "entitlement.changed"
