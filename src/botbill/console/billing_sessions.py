"""Console pages: Billing Sessions — how sessions are counted, and the list of billing
sessions with its filters, pages and CSV export.

The list is ``GET /v1/billing-sessions``'s: the same service, the same completed
sessions, ordered by start. Dates are local dates of the workspace's timezone, both ends
inclusive; the CSV carries the API's fields, instants in UTC.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from botbill.console.access import BillingSessionsViewer, Viewer
from botbill.console.pages import ConsoleRoute, render, with_headers
from botbill.kit.clock import Clock
from botbill.kit.days import day_start, local_date
from botbill.kit.db import unit_of_work
from botbill.kit.pagination import cut_page, decode_cursor
from botbill.kit.problems import Problem
from botbill.kit.timezones import zone
from botbill.kit.web import ClockDep, EngineDep
from botbill.metering.models import BillingSession
from botbill.usage import service
from botbill.usage.schemas import BillingSessionOut
from botbill.workspaces.models import App
from botbill.workspaces.service import list_apps

router = APIRouter(route_class=ConsoleRoute)

PATH = "/console/w/{workspace_id}/billing-sessions"
PAGE_SIZE = 50
CSV_CHUNK = 1000
MAX_DAYS = 366
DEFAULT_DAYS = 7
TYPES = (("usage", "Usage"), ("alert", "Alert"), ("voice", "Voice"))
CSV_COLUMNS = list(BillingSessionOut.model_fields)


@dataclass(frozen=True, slots=True)
class Filters:
    app_id: str | None
    kind: str | None
    from_date: date
    to_date: date

    def query(self, **extra: str) -> str:
        fields = {
            "app_id": self.app_id or "",
            "type": self.kind or "",
            "from": self.from_date.isoformat(),
            "to": self.to_date.isoformat(),
            **extra,
        }
        return urlencode({name: value for name, value in fields.items() if value})


def read_filters(
    viewer: Viewer, now: int, app_id: str, kind: str, from_: str, to: str
) -> tuple[Filters, list[str]]:
    """The filters as typed, with what is wrong in them (then the defaults stand in):
    the last 7 local days, all apps and types."""
    problems: list[str] = []
    today = local_date(now, zone(viewer.timezone))
    dates: list[date | None] = []
    for name, text in (("From", from_), ("To", to)):
        try:
            dates.append(date.fromisoformat(text) if text else None)
        except ValueError:
            problems.append(f"{name}: {text!r} is not a date (YYYY-MM-DD).")
            dates.append(None)
    to_date = dates[1] or today
    from_date = dates[0] or to_date - timedelta(days=DEFAULT_DAYS - 1)
    if from_date > to_date:
        problems.append("From is after To: showing the 7 days up to To.")
        from_date = to_date - timedelta(days=DEFAULT_DAYS - 1)
    if (to_date - from_date).days >= MAX_DAYS:
        problems.append(f"At most {MAX_DAYS} days at once: showing the last {MAX_DAYS} up to To.")
        from_date = to_date - timedelta(days=MAX_DAYS - 1)
    if kind and kind not in dict(TYPES):
        problems.append(f"Type: {kind!r} is not usage, alert or voice.")
        kind = ""
    return Filters(app_id or None, kind or None, from_date, to_date), problems


FilterQuery = Annotated[str, Query()]


@dataclass(frozen=True, slots=True)
class Asked:
    """The filters of a page or CSV request, as read, with what was wrong in them."""

    filters: Filters
    problems: list[str]


def _asked(
    viewer: BillingSessionsViewer,
    clock: ClockDep,
    app_id: FilterQuery = "",
    type: FilterQuery = "",
    from_: Annotated[str, Query(alias="from")] = "",
    to: FilterQuery = "",
) -> Asked:
    return Asked(*read_filters(viewer, clock.now(), app_id, type, from_, to))


AskedDep = Annotated[Asked, Depends(_asked)]


def _span(viewer: Viewer, filters: Filters) -> tuple[int, int]:
    tz = zone(viewer.timezone)
    return day_start(filters.from_date, tz), day_start(filters.to_date + timedelta(days=1), tz)


def _apps(engine: Engine, workspace_id: str) -> list[App]:
    with unit_of_work(engine, write=False) as session:
        return list_apps(session, workspace_id, limit=10_000)


def _rows(
    session: Session,
    viewer: Viewer,
    filters: Filters,
    *,
    after: tuple[int, int] | None,
    limit: int,
) -> list[BillingSession]:
    """Up to ``limit`` billing sessions of the filters after ``after``, by start."""
    start, end = _span(viewer, filters)
    return service.billing_sessions(
        session,
        workspace_id=viewer.workspace_id,
        app_id=filters.app_id,
        start=start,
        end=end,
        kind=filters.kind,
        after=after,
        limit=limit,
    )


def _page(
    engine: Engine, clock: Clock, viewer: Viewer, filters: Filters, cursor: str | None
) -> tuple[list[BillingSessionOut], str | None]:
    position = decode_cursor(cursor, arity=2)
    after = (int(position[0]), int(position[1])) if position else None
    with service.settled_read(
        engine, clock, workspace_id=viewer.workspace_id, app_id=filters.app_id
    ) as (session, _):
        rows = _rows(session, viewer, filters, after=after, limit=PAGE_SIZE + 1)
    rows, next_cursor = cut_page(rows, PAGE_SIZE, lambda row: [row.start, row.id])
    return [service.billing_session_out(row) for row in rows], next_cursor


@router.get(PATH)
def billing_sessions_page(
    request: Request,
    viewer: BillingSessionsViewer,
    engine: EngineDep,
    clock: ClockDep,
    asked: AskedDep,
    cursor: FilterQuery = "",
) -> Response:
    filters, problems = asked.filters, asked.problems
    apps = _apps(engine, viewer.workspace_id)
    page_url = f"/console/w/{viewer.workspace_id}/billing-sessions"
    sessions: list[BillingSessionOut] = []
    next_cursor = None
    try:
        sessions, next_cursor = _page(engine, clock, viewer, filters, cursor or None)
    except Problem as problem:  # an unknown app, a cursor not ours
        problems.append(problem.detail[:1].upper() + problem.detail[1:] + ".")
    return render(
        request,
        "billing_sessions.html",
        viewer,
        apps=apps,
        filters=filters,
        app_options=[("", "All apps"), *((app.id, f"{app.name} ({app.id})") for app in apps)],
        type_options=[("", "All types"), *TYPES],
        sessions=sessions,
        problems=problems,
        page_url=page_url,
        csv_url=f"{page_url}.csv?{filters.query()}",
        first_url=f"{page_url}?{filters.query()}" if cursor else None,
        next_url=f"{page_url}?{filters.query(cursor=next_cursor)}" if next_cursor else None,
        status_code=422 if problems else 200,
    )


@router.get(PATH + ".csv")
def billing_sessions_csv(
    viewer: BillingSessionsViewer, engine: EngineDep, clock: ClockDep, asked: AskedDep
) -> Response:
    """Every billing session of the filters (not only one page), the API's fields."""
    filters = asked.filters
    if asked.problems:
        text = " ".join(asked.problems)
        return with_headers(Response(text, status_code=422, media_type="text/plain"))

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        after: tuple[int, int] | None = None
        with service.settled_read(
            engine, clock, workspace_id=viewer.workspace_id, app_id=filters.app_id
        ) as (session, _):
            while True:
                rows = _rows(session, viewer, filters, after=after, limit=CSV_CHUNK)
                for row in rows:
                    item = service.billing_session_out(row).model_dump()
                    writer.writerow(item[column] for column in CSV_COLUMNS)
                yield out.getvalue()
                out.seek(0)
                out.truncate()
                if len(rows) < CSV_CHUNK:
                    return
                after = (rows[-1].start, rows[-1].id)

    # The first chunk is read now, so an unknown app is a page, not a broken download.
    chunks = lines()
    try:
        first = next(chunks)
    except Problem as problem:
        return with_headers(Response(problem.detail, status_code=problem.status))
    name = f"billing-sessions-{filters.from_date}-{filters.to_date}.csv"

    def body() -> Iterator[str]:
        yield first
        yield from chunks

    return with_headers(
        StreamingResponse(
            body(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    )
