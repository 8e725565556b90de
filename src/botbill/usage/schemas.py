from __future__ import annotations

from pydantic import BaseModel


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
    from_: str
    to: str
    series: list[UsagePoint]
    totals: UsageCounts

    def as_json(self) -> dict[str, object]:
        body = self.model_dump()
        body["from"] = body.pop("from_")
        # keep API.md's field order: app_id, tz, range, granularity, from, to, series, totals
        order = ["app_id", "tz", "range", "granularity", "from", "to", "series", "totals"]
        return {key: body[key] for key in order}


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
