"""The Plan list, subscription details and the writes on a subscription, as JSON."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from botbill.kit.instants import from_micros
from botbill.kit.timezones import zone
from botbill.orders.schemas import CardToken, OrderOut
from botbill.plans.schemas import Included, PlanCode
from botbill.plans.service import ACTIVE
from botbill.subscriptions.overview import Overview
from botbill.workspaces.models import Workspace


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


def _local(instant: int, workspace: Workspace) -> datetime:
    return from_micros(instant).astimezone(zone(workspace.timezone))


def _summary_fields(
    overview: Overview, workspace: Workspace, emails: Mapping[str, str]
) -> dict[str, Any]:
    app, subscription = overview.app, overview.subscription
    return {
        "app_id": app.id,
        "app_name": app.name,
        "owner_email": emails.get(app.owner_id) if app.owner_id else None,
        "plan": overview.plan.code,
        "status": overview.status.value,
        "balance": Balance(amount=overview.balance.amount, currency=overview.balance.currency),
        "period_start": _local(subscription.period_start, workspace),
        "period_end": _local(subscription.period_end, workspace),
        "notices": [NoticeOut(type=n.type.value, detail=n.detail) for n in overview.notices],
    }


def summary_of(
    overview: Overview, workspace: Workspace, emails: Mapping[str, str]
) -> SubscriptionSummary:
    """A row of the Plan list; ``emails`` by member id, for the owners."""
    return SubscriptionSummary(**_summary_fields(overview, workspace, emails))


def detail_of(
    overview: Overview, workspace: Workspace, emails: Mapping[str, str]
) -> SubscriptionDetail:
    subscription, period = overview.subscription, overview.period
    scheduled = overview.scheduled_plan
    return SubscriptionDetail(
        **_summary_fields(overview, workspace, emails),
        included=Included(
            billing_sessions=period.included_billing, voice_sessions=period.included_voice
        ),
        used=Used(
            billing_sessions=overview.used.usage + overview.used.alert,
            usage_sessions=overview.used.usage,
            alert_sessions=overview.used.alert,
            voice_sessions=overview.used.voice,
        ),
        scheduled_change=None
        if scheduled is None
        else ScheduledChange(plan=scheduled.code, at=_local(subscription.period_end, workspace)),
        auto_reload=AutoReload(
            enabled=subscription.auto_reload_enabled,
            threshold=subscription.auto_reload_threshold,
            amount=subscription.auto_reload_amount,
        ),
        renews=not overview.plan.is_trial
        and subscription.state == ACTIVE
        and (subscription.renew or overview.plan.fee_amount == 0),
    )
