from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

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


class AccountTypeChange(BaseModel):
    """``PUT /v1/workspaces/{workspace_id}/account-type`` (operators)."""

    model_config = ConfigDict(extra="forbid")

    account_type: Literal["self-serve", "enterprise"]


class AccountTypeOut(BaseModel):
    workspace_id: str
    account_type: str
    apps_moved: list[str] = Field(description="Apps now on the account type's plan.")
    apps_kept: list[str] = Field(description="Cancelled apps, left as they were.")
