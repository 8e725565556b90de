from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
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
    """Top-ups of the balance by the saved card (``PATCH /v1/apps/{app_id}/subscription``)."""

    enabled: bool
    threshold: int | None = Field(description="Below this balance an order is placed.")
    amount: int | None = Field(description="What each auto-reload order adds.")


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


MAX_THRESHOLD = 1_000_000_000_000
"""A bound on thresholds (minor units), far above any real balance."""

Threshold = Annotated[StrictInt, Field(ge=0, le=MAX_THRESHOLD)]


def _refuse_null(value: object) -> object:
    if value is None:
        raise ValueError("must not be null; leave the field out to keep its value")
    return value


def _optional_not_null(schema: dict[str, Any]) -> None:
    """In the OpenAPI schema, a field that may be left out but is never ``null``."""
    for name, field in schema.get("properties", {}).items():
        choices = [choice for choice in field.pop("anyOf", []) if choice.get("type") != "null"]
        if len(choices) == 1:
            schema["properties"][name] = {**field, **choices[0]}
        elif choices:
            field["anyOf"] = choices


class AutoReloadSettings(BaseModel):
    """Auto-reload: when the balance is below ``threshold``, an add-funds order of
    ``amount`` is charged to the app's saved card (one per dip below the threshold)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_optional_not_null)

    enabled: StrictBool
    threshold: Threshold | None = Field(
        default=None,
        description="Minor units, 0 or more; absent: keep the stored one (needed to enable).",
    )
    amount: StrictInt | None = Field(
        default=None,
        description="Minor units, within the add-funds limits (10,000-2,000,000 by default); "
        "absent: keep the stored one (needed to enable).",
    )

    @field_validator("threshold", "amount", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        return _refuse_null(value)


class SubscriptionSettings(BaseModel):
    """``PATCH /v1/apps/{app_id}/subscription``: renewal and auto-reload; fields left out
    keep their values."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_optional_not_null)

    renew: StrictBool | None = Field(
        default=None,
        description="Renew a fee plan at its period's end (default on). Off: the plan "
        "expires at the period's end.",
    )
    auto_reload: AutoReloadSettings | None = None

    @field_validator("renew", "auto_reload", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        return _refuse_null(value)

    @model_validator(mode="after")
    def _something_to_change(self) -> SubscriptionSettings:
        if self.renew is None and self.auto_reload is None:
            raise ValueError("nothing to change: give renew, auto_reload or both")
        return self


class AccountTypeChange(BaseModel):
    """``PUT /v1/workspaces/{workspace_id}/account-type`` (operators)."""

    model_config = ConfigDict(extra="forbid")

    account_type: Literal["self-serve", "enterprise"]


class AccountTypeOut(BaseModel):
    workspace_id: str
    account_type: str
    apps_moved: list[str] = Field(description="Apps now on the account type's plan.")
    apps_kept: list[str] = Field(description="Cancelled apps, left as they were.")
