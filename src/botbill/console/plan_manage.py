"""Console pages: Manage one bot — its plan and this period's use, a plan change shown
before it is confirmed, extension requests. Its money forms (add funds, renewal and
auto-reload) are :mod:`botbill.console.plan_funds`.

Each form builds the API's own request schema and calls the service its ``/v1`` route
calls, so the rules (limits, refusals, audit entries) are the same whichever way an admin
comes in; only the actor names the person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from botbill.console.access import CsrfChecked, ManageViewer, PlanViewer, Viewer
from botbill.console.amounts import major_units
from botbill.console.pages import ConsoleRoute, read_form, redirect, render
from botbill.console.plan_quote import Quote, quote_change
from botbill.console.writes import attempt, invalid_form
from botbill.extensions import service as extensions
from botbill.extensions.schemas import ExtensionRequestCreate, request_out
from botbill.invoicing.profiles import seller_profile
from botbill.kit.clock import Clock
from botbill.kit.db import unit_of_work
from botbill.kit.money import Money
from botbill.kit.problems import Problem
from botbill.kit.web import ClockDep, EngineDep
from botbill.orders.providers import CardProvider
from botbill.orders.service import get_order
from botbill.orders.web import CardsDep, SettingsDep
from botbill.plans.catalog import Plan
from botbill.plans.catalog_store import catalog
from botbill.settings import Settings
from botbill.subscriptions import service as subscriptions
from botbill.subscriptions.schemas import (
    PlanChangeRequest,
)
from botbill.workspaces.service import get_workspace

router = APIRouter(route_class=ConsoleRoute)
FormFields = Annotated[Mapping[str, str], Depends(read_form)]
T = TypeVar("T")

PATH = "/console/w/{workspace_id}/plan/{app_id}"
UPGRADED = "The plan was changed; the new period starts now."
WITHDRAWN = "The scheduled change was withdrawn; the plan renews as it is."
DOWNGRADED = "The downgrade is scheduled for the end of the period; it can be withdrawn."


def _plan_summary(plan: Plan, currency: str) -> str:
    if plan.fee_amount:
        fee = f"{Money(plan.fee_amount, currency).format()} a {plan.period.value}"
        return f"{fee}, {plan.included_billing_sessions:,} billing sessions included"
    return "pay as you go from the balance"


def manage_page_response(
    request: Request,
    viewer: Viewer,
    app_id: str,
    *,
    engine: EngineDep,
    clock: ClockDep,
    settings: Settings,
    quote: Quote | None = None,
    wire_order: str | None = None,
    error: Problem | None = None,
) -> HTMLResponse:
    detail = subscriptions.subscription_detail(
        engine,
        clock,
        workspace_id=viewer.workspace_id,
        app_id=app_id,
        low_balance=settings.low_balance_threshold,
    )
    with unit_of_work(engine, write=False) as session:
        workspace = get_workspace(session, viewer.workspace_id)
        currency, tz = workspace.currency, workspace.timezone
        plans = [
            {"code": p.code, "name": p.name, "summary": _plan_summary(p, currency)}
            for p in catalog(session).values()
            if not p.is_trial and not p.contract and p.code != detail.plan
        ]
        requests = extensions.list_requests(session, workspace.id, app_id=app_id, limit=20)
        shown_requests = [request_out(r, tz) for r in requests]
        wire = _wire(session, viewer.workspace_id, wire_order) if wire_order else None
        seller = seller_profile(session).party.legal_name
    return render(
        request,
        "plan_manage.html",
        viewer,
        detail=detail,
        plans=plans,
        quote=quote,
        extensions=shown_requests,
        wire_order=wire,
        seller=seller,
        currency=currency,
        limits=(
            Money(settings.funds_min_amount, currency),
            Money(settings.funds_max_amount, currency),
        ),
        base=f"/console/w/{viewer.workspace_id}",
        here=PATH.format(workspace_id=viewer.workspace_id, app_id=app_id),
        major=lambda amount: major_units(amount, currency),
        status_code=200 if error is None else error.status,
        notice=None if error is None else {"kind": "error", "text": error.detail},
    )


def _wire(session: Session, workspace_id: str, order_id: str) -> dict[str, str] | None:
    try:
        order = get_order(session, workspace_id, order_id)
    except Problem:
        return None
    return {
        "total": Money(order.total, order.currency).format(),
        "reference": order.provider_reference or order.id,
    }


@router.get(PATH)
def manage_page(
    app_id: str,
    request: Request,
    viewer: PlanViewer,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    plan: str | None = None,
    wire: str | None = None,
) -> HTMLResponse:
    """The bot's Manage page; with ``plan``, what changing to it would do, to confirm."""
    quote: Quote | Problem | None = None
    if plan:
        try:
            with unit_of_work(engine, write=False) as session:
                quote = quote_change(
                    session,
                    workspace_id=viewer.workspace_id,
                    app_id=app_id,
                    plan_code=plan,
                    now=clock.now(),
                )
        except Problem as problem:
            quote = problem
    return manage_page_response(
        request,
        viewer,
        app_id,
        engine=engine,
        clock=clock,
        settings=settings,
        quote=quote if isinstance(quote, Quote) else None,
        error=quote if isinstance(quote, Problem) else None,
        wire_order=wire,
    )


@dataclass(frozen=True, slots=True)
class Manage:
    """What every Manage form needs: who acts on which bot, and the parts the services
    take. One dependency, so each form names only its own fields and its service call."""

    request: Request
    viewer: Viewer
    app_id: str
    engine: Engine
    clock: Clock
    settings: Settings
    cards: CardProvider

    def attempt(self, action: Callable[[Session], T]) -> T | Problem:
        return attempt(self.engine, action)

    def answer(self, outcome: Any, done: Callable[[Any], tuple[str, str]]) -> Response:
        """Back to the Manage page: redirected with a message after success (so a reload
        does not repeat the action), or shown with the error and nothing changed."""
        if isinstance(outcome, Problem):
            return manage_page_response(
                self.request,
                self.viewer,
                self.app_id,
                engine=self.engine,
                clock=self.clock,
                settings=self.settings,
                error=outcome,
            )
        query, notice = done(outcome)
        here = PATH.format(workspace_id=self.viewer.workspace_id, app_id=self.app_id)
        return redirect(self.request, here + query, notice=notice)


def _manage(
    app_id: str,
    request: Request,
    viewer: ManageViewer,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    cards: CardsDep,
) -> Manage:
    return Manage(request, viewer, app_id, engine, clock, settings, cards)


ManageDep = Annotated[Manage, Depends(_manage)]


@router.post(f"{PATH}/change", dependencies=[CsrfChecked])
def change_plan_form(manage: ManageDep, form: FormFields) -> Response:
    outcome: Any
    plan, token = form.get("plan", ""), form.get("token", "")
    payment_method = form.get("payment_method", "balance")
    try:
        body = PlanChangeRequest.model_validate(
            {
                "plan": plan,
                "payment_method": "card" if payment_method == "card" else None,
                "token": (token.strip() or None) if payment_method == "card" else None,
            }
        )
    except ValidationError as error:
        outcome = invalid_form(error)
    else:
        outcome = manage.attempt(
            lambda session: subscriptions.change_plan(
                session,
                workspace_id=manage.viewer.workspace_id,
                app_id=manage.app_id,
                change=body,
                actor=manage.viewer.actor,
                request=None,
                cards=manage.cards,
                low_balance=manage.settings.low_balance_threshold,
                now=manage.clock.now(),
            )
        )
    return manage.answer(
        outcome, done=lambda reply: ("", DOWNGRADED if reply.status_code == 202 else UPGRADED)
    )


@router.post(f"{PATH}/scheduled-change/withdraw", dependencies=[CsrfChecked])
def withdraw_form(manage: ManageDep) -> Response:
    outcome = manage.attempt(
        lambda session: subscriptions.withdraw_scheduled_change(
            session,
            workspace_id=manage.viewer.workspace_id,
            app_id=manage.app_id,
            actor=manage.viewer.actor,
            cards=manage.cards,
            low_balance=manage.settings.low_balance_threshold,
            now=manage.clock.now(),
        )
    )
    return manage.answer(
        outcome,
        done=lambda _: ("", "The scheduled change was withdrawn; the plan renews as it is."),
    )


@router.post(f"{PATH}/extension-requests", dependencies=[CsrfChecked])
def extension_form(manage: ManageDep, form: FormFields) -> Response:
    outcome: Any
    days, reason = form.get("days", ""), form.get("reason", "")
    try:
        body = ExtensionRequestCreate.model_validate(
            {"days": int(days) if days.strip().isdigit() else days, "reason": reason}
        )
    except ValidationError as error:
        outcome = invalid_form(error)
    else:
        outcome = manage.attempt(
            lambda session: extensions.request_extension(
                session,
                get_workspace(session, manage.viewer.workspace_id),
                manage.app_id,
                days=body.days,
                reason=body.reason,
                actor=manage.viewer.actor,
                cards=manage.cards,
                now=manage.clock.now(),
            )
        )
    return manage.answer(
        outcome, done=lambda _: ("", "The extension was requested; an operator will decide.")
    )
