"""Console pages: Plan — every bot's plan, status, balance and period end, its notices,
and the owner change from its row's menu. The Manage page of one bot is
:mod:`botbill.console.plan_manage`.

Every read and write goes through the services behind ``/v1/subscriptions`` and
``PUT /v1/apps/{app_id}/owner``; the pages only parse forms and show answers.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine

from botbill.apps.service import change_owner
from botbill.console import plan_funds, plan_manage
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
router.include_router(plan_funds.router)

PAGE = 50
"""Bots per page of the Plan list, as the API's default page: a 500-bot workspace reads
and renders one page at a time."""


def plan_page_rows(
    engine: Engine, clock: Clock, *, workspace_id: str, after: str | None, low_balance: int
) -> tuple[list[SubscriptionSummary], str | None]:
    """One page of the Plan list from the service of ``GET /v1/subscriptions``, and the
    last app id shown when more follow."""
    page = subscriptions.plan_list(
        engine, clock, workspace_id=workspace_id, after=after, limit=PAGE, low_balance=low_balance
    )
    more = page.next_cursor is not None and bool(page.items)
    return page.items, page.items[-1].app_id if more else None


def _page(
    request: Request,
    viewer: Viewer,
    engine: Engine,
    clock: Clock,
    low_balance: int,
    *,
    after: str | None = None,
    error: Problem | None = None,
) -> HTMLResponse:
    rows, last = plan_page_rows(
        engine, clock, workspace_id=viewer.workspace_id, after=after, low_balance=low_balance
    )
    base = f"/console/w/{viewer.workspace_id}"
    with unit_of_work(engine, write=False) as session:
        members = list_members(session, viewer.workspace_id, limit=10_000)
        owners = [m for m in members if Role(m.role) in APP_OWNER_ROLES]
    return render(
        request,
        "plan.html",
        viewer,
        rows=rows,
        owners=owners,
        base=base,
        first_url=f"{base}/plan" if after else None,
        next_url=f"{base}/plan?{urlencode({'after': last})}" if last else None,
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
    after: str | None = None,
) -> HTMLResponse:
    return _page(
        request, viewer, engine, clock, settings.low_balance_threshold, after=after or None
    )


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
