from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from botbill.extensions.models import ExtensionRequest
from botbill.extensions.rules import MAX_DAYS, MIN_DAYS
from botbill.kit.instants import Micros, from_micros
from botbill.kit.timezones import zone
from botbill.workspaces.schemas import no_nul


def _blank_is_none(value: str | None) -> str | None:
    return value or None


def _no_nul_in_note(value: str | None) -> str | None:
    return None if value is None else no_nul(value)


class ExtensionRequestCreate(BaseModel):
    """``POST /v1/apps/{app_id}/extension-requests``."""

    model_config = ConfigDict(extra="forbid")

    days: Annotated[
        int,
        Field(strict=True, ge=MIN_DAYS, le=MAX_DAYS, description="More days asked for (1-30)."),
    ]
    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
        AfterValidator(no_nul),
        Field(description="Why; trimmed, 1-500 characters."),
    ]


class ExtensionDecision(BaseModel):
    """``POST /v1/extension-requests/{id}/decision`` (operators)."""

    model_config = ConfigDict(extra="forbid")

    approve: StrictBool
    note: Annotated[
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
        | None,  # the checks below see a null note too
        AfterValidator(_no_nul_in_note),
        AfterValidator(_blank_is_none),
        Field(description="Shown to the workspace with the outcome; trimmed, at most 500."),
    ] = None


class ExtensionRequestOut(BaseModel):
    id: str
    app_id: str
    days: int
    reason: str
    status: Literal["pending", "approved", "rejected"]
    requested_at: datetime
    decided_at: datetime | None
    note: str | None = Field(description="The operator's note with the decision.")
    period_end_before: datetime | None = Field(
        description="The period end the approval moved (workspace timezone); null until then."
    )
    period_end_after: datetime | None = Field(
        description="The new period end (workspace timezone); null unless approved."
    )


def request_out(request: ExtensionRequest, tz: str) -> ExtensionRequestOut:
    def local(instant: Micros | None) -> datetime | None:
        return None if instant is None else from_micros(instant).astimezone(zone(tz))

    return ExtensionRequestOut(
        id=request.id,
        app_id=request.app_id,
        days=request.days,
        reason=request.reason,
        status=request.status,
        requested_at=from_micros(request.requested_at),
        decided_at=None if request.decided_at is None else from_micros(request.decided_at),
        note=request.note,
        period_end_before=local(request.period_end_before),
        period_end_after=local(request.period_end_after),
    )
