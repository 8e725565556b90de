from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from botbill.auth.dependencies import Caller, Reader
from botbill.kit.clock import Clock
from botbill.kit.instants import to_micros
from botbill.kit.pagination import CursorQuery, LimitQuery, Page, cut_page, decode_cursor
from botbill.kit.problems import Invalid
from botbill.kit.web import ClockDep, EngineDep
from botbill.usage import service
from botbill.usage.buckets import Granularity, RangeError, RangeKind, window
from botbill.usage.schemas import BillingSessionOut, UsageReport

router = APIRouter(tags=["usage"])

CSV_COLUMNS = (
    "start",
    "end",
    "billing_sessions",
    "usage_sessions",
    "alert_sessions",
    "voice_sessions",
    "agents",
)


@dataclass(frozen=True, slots=True)
class UsageQuery:
    """The query of GET /v1/usage and /v1/usage.csv (API.md, Usage)."""

    range: RangeKind
    app_id: str | None
    from_: date | None
    to: date | None
    granularity: Granularity | None
    tz: str | None


async def usage_query(  # async: no I/O here, so no hop to the thread pool
    range: Annotated[RangeKind, Query(description="24h, 7d, 30d or custom")],
    app_id: Annotated[str | None, Query(description="One app; absent = all apps")] = None,
    from_: Annotated[
        date | None, Query(alias="from", description="Local date, with custom")
    ] = None,
    to: Annotated[date | None, Query(description="Local date (inclusive), with custom")] = None,
    granularity: Annotated[
        Granularity | None, Query(description="Default: hour for 24h, day otherwise")
    ] = None,
    tz: Annotated[str | None, Query(description="IANA timezone; default the workspace's")] = None,
) -> UsageQuery:
    return UsageQuery(range, app_id, from_, to, granularity, tz)


def _usage(caller: Caller, engine: Engine, clock: Clock, query: UsageQuery) -> UsageReport:
    with service.settled_read(
        engine, clock, workspace_id=caller.workspace_id, app_id=query.app_id
    ) as (session, timezone):
        now = clock.now()
        try:
            span = window(
                range=query.range,
                tz=query.tz or timezone,
                now=now,
                granularity=query.granularity,
                from_date=query.from_,
                to_date=query.to,
            )
        except RangeError as error:
            raise Invalid.at(["query", error.field], str(error)) from None
        return service.usage_report(
            session, workspace_id=caller.workspace_id, app_id=query.app_id, window=span, now=now
        )


@router.get("/v1/usage", response_model=UsageReport)
def get_usage(
    caller: Reader,
    engine: EngineDep,
    clock: ClockDep,
    query: Annotated[UsageQuery, Depends(usage_query)],
) -> JSONResponse:
    return JSONResponse(_usage(caller, engine, clock, query).as_json())


@router.get("/v1/usage.csv", response_class=Response)
def get_usage_csv(
    caller: Reader,
    engine: EngineDep,
    clock: ClockDep,
    query: Annotated[UsageQuery, Depends(usage_query)],
) -> Response:
    report = _usage(caller, engine, clock, query)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for point in report.series:
        writer.writerow([getattr(point, column) for column in CSV_COLUMNS])
    filename = f"usage-{report.app_id or 'all-apps'}-{report.range}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/v1/billing-sessions")
def list_billing_sessions(
    caller: Reader,
    engine: EngineDep,
    clock: ClockDep,
    from_: Annotated[datetime, Query(alias="from", description="RFC 3339 instant (inclusive)")],
    to: Annotated[datetime, Query(description="RFC 3339 instant (exclusive)")],
    app_id: str | None = None,
    type: Literal["usage", "alert", "voice"] | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[BillingSessionOut]:
    for name, value in (("from", from_), ("to", to)):
        if value.tzinfo is None:
            raise Invalid.at(
                ["query", name], "an instant needs a UTC offset, e.g. 2026-11-26T09:30:00Z"
            )
    start, end = to_micros(from_), to_micros(to)
    if start > end:
        raise Invalid.at(["query", "to"], "'to' is before 'from'")
    position = decode_cursor(cursor, arity=2)
    after = (int(position[0]), int(position[1])) if position else None
    with service.settled_read(engine, clock, workspace_id=caller.workspace_id, app_id=app_id) as (
        session,
        _,
    ):
        rows = service.billing_sessions(
            session,
            workspace_id=caller.workspace_id,
            app_id=app_id,
            start=start,
            end=end,
            kind=type,
            after=after,
            limit=limit + 1,
        )
    rows, next_cursor = cut_page(rows, limit, lambda row: [row.start, row.id])
    return Page(items=[service.billing_session_out(row) for row in rows], next_cursor=next_cursor)
