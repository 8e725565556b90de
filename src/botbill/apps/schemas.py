from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from botbill.workspaces.schemas import Email, no_nul

AppId = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9_-]{1,64}$")]
AppName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(no_nul),
]
IdleTimeout = Annotated[
    int, Field(ge=5, le=14 * 24 * 60, description="Minutes of silence that end a session.")
]
PLAN_CODES = ("trial", "standard", "essential", "advanced", "enterprise")


class AppCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: AppId | None = None
    name: AppName
    owner_email: Email | None = None
    idle_timeout_minutes: IdleTimeout = 15
    plan: str | None = Field(
        default=None,
        description="`trial` when absent; `enterprise` (and only it) in an enterprise workspace.",
    )


class AppUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: AppName | None = None
    idle_timeout_minutes: IdleTimeout | None = None


class OwnerChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email


class AppOut(BaseModel):
    id: str
    name: str
    owner_email: str | None
    idle_timeout_minutes: int
    plan: str
    created_at: datetime
