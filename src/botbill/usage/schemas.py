from __future__ import annotations

from pydantic import BaseModel, Field


class UsageCounts(BaseModel):
    billing_sessions: int
    usage_sessions: int
    alert_sessions: int
    voice_sessions: int
    agents: int


class UsagePoint(BaseModel):
    # Field order as API.md shows it: the bucket first, then its counts.
    start: str
    end: str
    billing_sessions: int
    usage_sessions: int
    alert_sessions: int
    voice_sessions: int
    agents: int


class UsageReport(BaseModel):
    app_id: str | None
    tz: str
    range: str
    granularity: str
    # `from` is a Python keyword: the attribute is `from_`, the JSON field (and so the
    # served schema, which FastAPI builds by alias) is `from`.
    from_: str = Field(serialization_alias="from")
    to: str
    series: list[UsagePoint]
    totals: UsageCounts

    def as_json(self) -> dict[str, object]:
        """The body as API.md shows it, fields in declaration order."""
        return self.model_dump(by_alias=True)


class BillingSessionOut(BaseModel):
    billing_session_id: str
    type: str
    app_id: str
    channel: str | None
    conversation_id: str | None
    conversation_session_start: str | None
    conversation_session_end: str | None
    start: str
    end: str
