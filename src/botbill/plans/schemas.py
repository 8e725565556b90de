from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from botbill.orders.schemas import CardToken, OrderOut

PlanCode = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class Included(BaseModel):
    billing_sessions: int
    voice_sessions: int


class Prices(BaseModel):
    usage: int | None
    alert: int | None
    voice: int | None
    seat_day: int | None


class PlanOut(BaseModel):
    code: str
    name: str
    period: Literal["month", "trial"]
    period_days: int | None = Field(description="The trial's length; null for monthly plans.")
    fee: int | None = Field(description="Per period, minor units; null for a contract.")
    currency: str = Field(description="The workspace's currency, in which amounts apply.")
    included: Included
    prices: Prices = Field(description="Per session (overage on fee plans); null = not sold.")
    contract: bool


class PlanList(BaseModel):
    items: list[PlanOut]
    next_cursor: None = None


class Balance(BaseModel):
    amount: int
    currency: str


class NoticeOut(BaseModel):
    type: str
    detail: str


class SubscriptionSummary(BaseModel):
    """A row of the Plan list."""

    app_id: str
    app_name: str
    owner_email: str | None
    plan: str
    status: Literal["active", "expiring", "expired", "inactive", "cancelled"]
    balance: Balance
    period_start: datetime
    period_end: datetime
    notices: list[NoticeOut]


class Used(BaseModel):
    billing_sessions: int
    usage_sessions: int
    alert_sessions: int
    voice_sessions: int


class ScheduledChange(BaseModel):
    plan: str
    at: datetime


class AutoReload(BaseModel):
    enabled: bool
    threshold: int | None
    amount: int | None


class SubscriptionDetail(SubscriptionSummary):
    included: Included
    used: Used = Field(description="Billing sessions rated in this period, by unit.")
    scheduled_change: ScheduledChange | None
    auto_reload: AutoReload
    renews: bool


class PlanChangeRequest(BaseModel):
    """``POST /v1/apps/{app_id}/subscription/change``."""

    model_config = ConfigDict(extra="forbid")

    plan: PlanCode
    payment_method: Literal["card"] | None = Field(
        default=None, description="Pay the fee by card; absent: from the app's balance."
    )
    token: CardToken | None = Field(default=None, validate_default=True)

    @field_validator("token")
    @classmethod
    def _token_with_card_only(cls, token: str | None, info: ValidationInfo) -> str | None:
        if "payment_method" not in info.data:
            return token  # the payment method itself is wrong: reported there
        method = info.data["payment_method"]
        if method == "card" and token is None:
            raise ValueError("a card payment needs a token")
        if method is None and token is not None:
            raise ValueError("a token needs payment_method 'card'")
        return token


class PlanChangeOut(SubscriptionDetail):
    change: Literal["upgrade", "downgrade"]
    order: OrderOut | None
