"""Console pages: Usage — filters, the graph with its tooltips, the table, CSV export.

The series is ``GET /v1/usage``'s, from the same service and window rule, in the
workspace's timezone; the CSV is ``/v1/usage.csv``'s columns.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import Engine, Row, select
from sqlalchemy.orm import Session

from botbill.console.access import UsageViewer, Viewer
from botbill.console.chart import usage_chart
from botbill.console.pages import ConsoleRoute, render
from botbill.console.usage_view import (
    GRAIN_NAMES,
    RANGE_NAMES,
    UsageFilters,
    chart_points,
    granularities,
)
from botbill.kit.clock import Clock
from botbill.kit.db import unit_of_work
from botbill.kit.problems import Invalid, Problem
from botbill.kit.web import ClockDep, EngineDep
from botbill.usage import service
from botbill.usage.buckets import Granularity, RangeError, RangeKind, window
from botbill.usage.routes import CSV_COLUMNS
from botbill.usage.schemas import UsageReport
from botbill.workspaces.models import App

router = APIRouter(route_class=ConsoleRoute)

PATH = "/console/w/{workspace_id}/usage"


def _filters(
    app_id: str, range: str, granularity: str, from_: str, to: str
) -> UsageFilters | Invalid:
    """The query as typed; blank fields are absent. A value no form offers is refused
    with the field's name, like the API's 422."""
    try:
        kind = RangeKind(range or RangeKind.LAST_7_DAYS)
    except ValueError:
        return Invalid(f"range: choose one of {', '.join(RANGE_NAMES.values())}")
    try:
        grain = Granularity(granularity) if granularity else None
    except ValueError:
        return Invalid(f"granularity: choose one of {', '.join(GRAIN_NAMES.values())}")
    dates: list[date | None] = []
    for name, text in (("from", from_), ("to", to)):
        try:
            dates.append(date.fromisoformat(text) if text and kind is RangeKind.CUSTOM else None)
        except ValueError:
            return Invalid(f"{name}: {text!r} is not a date (YYYY-MM-DD)")
    return UsageFilters(app_id or None, kind, grain, dates[0], dates[1])


def usage_report(
    engine: Engine, clock: Clock, *, workspace_id: str, filters: UsageFilters
) -> UsageReport:
    """``GET /v1/usage``'s report for these filters, in the workspace's timezone."""
    with service.settled_read(engine, clock, workspace_id=workspace_id, app_id=filters.app_id) as (
        session,
        timezone,
    ):
        now = clock.now()
        try:
            span = window(
                range=filters.range,
                tz=timezone,
                now=now,
                granularity=filters.granularity,
                from_date=filters.from_date,
                to_date=filters.to_date,
            )
        except RangeError as error:
            raise Invalid(f"{error.field}: {error.message}") from None
        return service.usage_report(
            session, workspace_id=workspace_id, app_id=filters.app_id, window=span, now=now
        )


def _report(
    engine: Engine, clock: Clock, viewer: Viewer, query: dict[str, str]
) -> tuple[UsageFilters | None, UsageReport | Problem]:
    filters = _filters(
        query.get("app_id", ""),
        query.get("range", ""),
        query.get("granularity", ""),
        query.get("from", ""),
        query.get("to", ""),
    )
    if isinstance(filters, Problem):
        return None, filters
    try:
        report = usage_report(engine, clock, workspace_id=viewer.workspace_id, filters=filters)
    except Problem as problem:
        return filters, problem
    return filters, report


def app_choices(session: Session, workspace_id: str) -> list[Row[tuple[str, str]]]:
    """The bot filter's choices: ids and names only (a 500-bot workspace's ``App``
    objects cost more than the usage query itself)."""
    query = select(App.id, App.name).where(App.workspace_id == workspace_id).order_by(App.id)
    return list(session.execute(query))


@router.get(PATH)
def usage_page(
    request: Request, viewer: UsageViewer, engine: EngineDep, clock: ClockDep
) -> HTMLResponse:
    filters, report = _report(engine, clock, viewer, dict(request.query_params))
    shown = filters or UsageFilters(None, RangeKind.LAST_7_DAYS, None, None, None)
    with unit_of_work(engine, write=False) as session:
        apps = app_choices(session, viewer.workspace_id)
    page = PATH.format(workspace_id=viewer.workspace_id)
    context: dict[str, Any] = {
        "filters": shown,
        "apps": apps,
        "tz": viewer.timezone,
        "page_url": page,
        "ranges": list(RANGE_NAMES.items()),
        "grains": [(g, GRAIN_NAMES[g]) for g in granularities(shown.range)],
        "report": None,
        "error": None,
    }
    if isinstance(report, Problem):
        context["error"] = report.detail
        return render(request, "usage.html", viewer, status_code=report.status, **context)
    grain = Granularity(report.granularity)
    points = chart_points(report.series, grain)
    scope = "all bots" if shown.app_id is None else shown.app_id
    title = f"Usage of {scope}, {RANGE_NAMES[shown.range].lower()}, by {grain.value}"
    context |= {
        "report": report,
        "chart": Markup(usage_chart(points, title=title)),  # escaped by usage_chart
        "rows": list(zip(points, report.series, strict=True)),
        "csv_url": f"{page}.csv?{urlencode(shown.query())}",
    }
    return render(request, "usage.html", viewer, **context)


@router.get(PATH + ".csv")
def usage_csv(
    request: Request, viewer: UsageViewer, engine: EngineDep, clock: ClockDep
) -> Response:
    """The table as ``/v1/usage.csv`` gives it: same columns, same values."""
    _, report = _report(engine, clock, viewer, dict(request.query_params))
    if isinstance(report, Problem):
        return Response(report.detail, status_code=report.status, media_type="text/plain")
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
