"""Console pages: Plan — every bot's plan, status, balance and period end, its notices,
and the owner change from its row's menu. The Manage page of one bot is
:mod:`botbill.console.plan_manage`.

Every read and write goes through the services behind ``/v1/subscriptions`` and
``PUT /v1/apps/{app_id}/owner``; the pages only parse forms and show answers.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine

from botbill.apps.service import change_owner
from botbill.console import plan_manage
from botbill.console.access import CsrfChecked, ManageViewer, PlanViewer, Viewer
from botbill.console.pages import ConsoleRoute, redirect, render
from botbill.console.plan_manage import FormFields
from botbill.console.writes import attempt
from botbill.kit.clock import Clock
from botbill.kit.db import unit_of_work
from botbill.kit.problems import Problem
from botbill.kit.web import ClockDep, EngineDep
from botbill.orders.web import SettingsDep
from botbill.subscriptions import service as subscriptions
from botbill.subscriptions.schemas import SubscriptionSummary
from botbill.workspaces.schemas import APP_OWNER_ROLES, Role
from botbill.workspaces.service import list_members

router = APIRouter(route_class=ConsoleRoute)
router.include_router(plan_manage.router)

PAGE = 500
"""Apps read per call of the Plan list service; the page shows them all."""


def plan_rows(
    engine: Engine, clock: Clock, *, workspace_id: str, low_balance: int
) -> list[SubscriptionSummary]:
    """Every app's row of the Plan list, through the service of ``GET /v1/subscriptions``."""
    rows: list[SubscriptionSummary] = []
    after: str | None = None
    while True:
        page = subscriptions.plan_list(
            engine,
            clock,
            workspace_id=workspace_id,
            after=after,
            limit=PAGE,
            low_balance=low_balance,
        )
        rows += page.items
        if page.next_cursor is None or not page.items:
            return rows
        after = page.items[-1].app_id


def _page(
    request: Request,
    viewer: Viewer,
    engine: Engine,
    clock: Clock,
    low_balance: int,
    *,
    error: Problem | None = None,
) -> HTMLResponse:
    rows = plan_rows(engine, clock, workspace_id=viewer.workspace_id, low_balance=low_balance)
    with unit_of_work(engine, write=False) as session:
        members = list_members(session, viewer.workspace_id, limit=10_000)
        owners = [m for m in members if Role(m.role) in APP_OWNER_ROLES]
    return render(
        request,
        "plan.html",
        viewer,
        rows=rows,
        owners=owners,
        base=f"/console/w/{viewer.workspace_id}",
        status_code=200 if error is None else error.status,
        notice=None if error is None else {"kind": "error", "text": error.detail},
    )


@router.get("/console/w/{workspace_id}/plan")
def plan_page(
    request: Request,
    viewer: PlanViewer,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> HTMLResponse:
    return _page(request, viewer, engine, clock, settings.low_balance_threshold)


@router.post("/console/w/{workspace_id}/plan/{app_id}/owner", dependencies=[CsrfChecked])
def change_owner_form(
    app_id: str,
    request: Request,
    viewer: ManageViewer,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    form: FormFields,
) -> Response:
    """The row menu's Change owner: to a member who may own apps (owner, admin,
    developer); the service refuses anyone else."""
    email = form.get("email", "")
    outcome = attempt(
        engine,
        lambda session: change_owner(
            session, viewer.workspace_id, app_id, email, actor=viewer.actor, now=clock.now()
        ),
    )
    if isinstance(outcome, Problem):
        return _page(request, viewer, engine, clock, settings.low_balance_threshold, error=outcome)
    return redirect(
        request,
        f"/console/w/{viewer.workspace_id}/plan",
        notice=f"{outcome.name} is now owned by {email}.",
    )
