"""Every table botbill owns, imported once so the metadata (and Alembic) sees them all."""

from botbill.apps.models import App
from botbill.audit.models import AuditEntry
from botbill.events.models import Event
from botbill.extensions.models import ExtensionRequest
from botbill.kit.db import Base
from botbill.metering.models import (
    AgentSeat,
    BillingSession,
    Conversation,
    SeatInterval,
    SeatOrdinalCounter,
    SeatPresence,
    UsageRollup,
    WorkspaceUsageRollup,
)
from botbill.operators.models import OperatorKey
from botbill.orders.models import IdempotencyRecord, Order
from botbill.plans.models import PlanRow, Subscription, SubscriptionPeriod
from botbill.rating.models import RatingQueueEntry, SeatDayCharge, SeatDayQueueEntry, SeatDaySweep
from botbill.wallet.models import Balance, LedgerEntry, UsageCharge
from botbill.workspaces.models import ApiKey, Member, Workspace

metadata = Base.metadata

__all__ = [
    "AgentSeat",
    "ApiKey",
    "App",
    "AuditEntry",
    "Balance",
    "BillingSession",
    "Conversation",
    "Event",
    "ExtensionRequest",
    "IdempotencyRecord",
    "LedgerEntry",
    "Member",
    "OperatorKey",
    "Order",
    "PlanRow",
    "RatingQueueEntry",
    "SeatDayCharge",
    "SeatDayQueueEntry",
    "SeatDaySweep",
    "SeatInterval",
    "SeatOrdinalCounter",
    "SeatPresence",
    "Subscription",
    "SubscriptionPeriod",
    "UsageCharge",
    "UsageRollup",
    "Workspace",
    "WorkspaceUsageRollup",
    "metadata",
]
