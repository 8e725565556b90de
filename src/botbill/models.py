"""Every table botbill owns, imported once so the metadata (and Alembic) sees them all."""

from botbill.audit.models import AuditEntry
from botbill.auth.models import ApiKey, OperatorKey
from botbill.compat import models as compat_models
from botbill.events.models import Event
from botbill.extensions.models import ExtensionRequest
from botbill.invoicing.models import BillingProfile, Invoice, InvoiceSeries, SellerProfile
from botbill.kit.db import Base
from botbill.ledger.models import Balance, LedgerEntry
from botbill.metering.models import (
    AgentSeat,
    BillingSession,
    Conversation,
    RatingQueueEntry,
    SeatDayQueueEntry,
    SeatDaySweep,
    SeatInterval,
    SeatOrdinalCounter,
    SeatPresence,
    UsageRollup,
    WorkspaceUsageRollup,
)
from botbill.orders.models import IdempotencyRecord, Order
from botbill.people import models as people_models
from botbill.plans.models import PlanRow, Subscription, SubscriptionPeriod
from botbill.rating.models import SeatDayCharge, UsageCharge
from botbill.webhooks import models as webhooks_models
from botbill.workspaces.models import App, Member, Workspace

metadata = Base.metadata

__all__ = [
    "AgentSeat",
    "ApiKey",
    "App",
    "AuditEntry",
    "Balance",
    "BillingProfile",
    "BillingSession",
    "Conversation",
    "Event",
    "ExtensionRequest",
    "IdempotencyRecord",
    "Invoice",
    "InvoiceSeries",
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
    "SellerProfile",
    "Subscription",
    "SubscriptionPeriod",
    "UsageCharge",
    "UsageRollup",
    "Workspace",
    "WorkspaceUsageRollup",
    "compat_models",
    "metadata",
    "people_models",
    "webhooks_models",
]
