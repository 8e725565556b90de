"""Console pages: the platform operator's — extension requests to decide, wire orders to
confirm, invoices to void, the plan catalog, workspaces and their account type.

Each action calls the service of its operator API route (or, for the catalog, of
``botbill plans set``) with the person as actor, so the audit log names who did it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from botbill.console.access import CsrfChecked, OperatorViewer, Viewer
from botbill.console.operator_queues import recent_invoices, wire_orders_awaiting, workspaces
from botbill.console.pages import ConsoleRoute, redirect, render
from botbill.console.plan_manage import FormFields
from botbill.console.writes import attempt, invalid_form
from botbill.extensions import service as extensions
from botbill.extensions.rules import Status
from botbill.extensions.schemas import ExtensionDecision
from botbill.invoicing.schemas import VoidRequest
from botbill.kit.db import unit_of_work
from botbill.kit.problems import Invalid, Problem
from botbill.kit.web import ClockDep, EngineDep
from botbill.orders import service as orders
from botbill.orders.web import CardsDep
from botbill.plans import accounts
from botbill.plans.catalog_store import catalog, set_plan
from botbill.wallet import service as wallet

router = APIRouter(route_class=ConsoleRoute)

HOME = "/console/operator"
PLAN_FIELDS = (
    ("fee", "Fee per period"),
    ("included_billing_sessions", "Included billing sessions"),
    ("included_voice_sessions", "Included voice sessions"),
    ("usage_price", "Usage session"),
    ("alert_price", "Alert session"),
    ("voice_price", "Voice session"),
    ("seat_day_price", "Seat per day"),
)
"""What the catalog form edits; amounts are minor units, as in ``botbill plans set``."""


def _page(
    request: Request, viewer: Viewer, engine: Engine, *, error: Problem | None = None
) -> HTMLResponse:
    with unit_of_work(engine, write=False) as session:
        pending = extensions.list_requests(session, None, status=Status.PENDING, limit=100)
        names = {row.id: row for row in workspaces(session)}
        context: dict[str, Any] = {
            "extension_requests": pending,
            "wire_orders": wire_orders_awaiting(session),
            "invoices": recent_invoices(session),
            "plans": list(catalog(session).values()),
            "plan_fields": PLAN_FIELDS,
            "workspaces": list(names.values()),
            "workspace_names": {key: row.name for key, row in names.items()},
        }
    return render(
        request,
        "operator.html",
        viewer,
        status_code=200 if error is None else error.status,
        notice=None if error is None else {"kind": "error", "text": error.detail},
        **context,
    )


def _done(
    request: Request,
    viewer: Viewer,
    engine: Engine,
    outcome: Any,
    notice: Callable[[Any], str],
) -> Response:
    if isinstance(outcome, Problem):
        return _page(request, viewer, engine, error=outcome)
    return redirect(request, HOME, notice=notice(outcome))


@router.get(HOME)
def operator_page(request: Request, viewer: OperatorViewer, engine: EngineDep) -> HTMLResponse:
    return _page(request, viewer, engine)


@router.post(HOME + "/extension-requests/{request_id}/decision", dependencies=[CsrfChecked])
def decide_extension(
    request_id: str,
    request: Request,
    viewer: OperatorViewer,
    engine: EngineDep,
    clock: ClockDep,
    cards: CardsDep,
    form: FormFields,
) -> Response:
    outcome: Any
    try:
        body = ExtensionDecision.model_validate(
            {"approve": form.get("decision") == "approve", "note": form.get("note", "")}
        )
    except ValidationError as error:
        outcome = invalid_form(error)
    else:
        outcome = attempt(
            engine,
            lambda session: extensions.decide(
                session,
                request_id,
                approve=body.approve,
                note=body.note,
                actor=viewer.actor,
                cards=cards,
                now=clock.now(),
            ),
        )
    return _done(
        request,
        viewer,
        engine,
        outcome,
        lambda decided: f"Request {decided.request.id} is {decided.request.status}.",
    )


@router.post(HOME + "/wire-orders/{order_id}/confirm", dependencies=[CsrfChecked])
def confirm_wire(
    order_id: str,
    request: Request,
    viewer: OperatorViewer,
    engine: EngineDep,
    clock: ClockDep,
    cards: CardsDep,
) -> Response:
    outcome = attempt(
        engine,
        lambda session: wallet.confirm_payment(
            session, order_id, actor=viewer.actor, cards=cards, now=clock.now()
        ),
    )
    return _done(request, viewer, engine, outcome, lambda order: f"Order {order.id} is paid.")


@router.post(HOME + "/invoices/{invoice_id}/void", dependencies=[CsrfChecked])
def void_invoice(
    invoice_id: str,
    request: Request,
    viewer: OperatorViewer,
    engine: EngineDep,
    clock: ClockDep,
    form: FormFields,
) -> Response:
    outcome: Any
    try:
        body = VoidRequest.model_validate({"reason": form.get("reason", "")})
    except ValidationError as error:
        outcome = invalid_form(error)
    else:
        outcome = attempt(
            engine,
            lambda session: orders.void_invoice(
                session, invoice_id, reason=body.reason, actor=viewer.actor, now=clock.now()
            ),
        )
    return _done(
        request,
        viewer,
        engine,
        outcome,
        lambda voided: (
            f"{voided.invoice.number} is void: credit note "
            f"{voided.credit_note.number}, replaced by {voided.replacement.number}."
        ),
    )


def _plan_changes(form: FormFields) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if form.get("name", "").strip():
        changes["name"] = form["name"].strip()
    for field, label in PLAN_FIELDS:
        text = form.get(field, "").strip()
        if not text:
            continue
        if not text.isdigit():
            raise Invalid(f"{label}: a whole number of minor units, 0 or more")
        changes[field] = int(text)
    return changes


@router.post(HOME + "/plans/{code}", dependencies=[CsrfChecked])
def set_catalog_plan(
    code: str,
    request: Request,
    viewer: OperatorViewer,
    engine: EngineDep,
    clock: ClockDep,
    form: FormFields,
) -> Response:
    def work(session: Session) -> Any:
        try:
            return set_plan(session, code, _plan_changes(form), actor=viewer.actor, now=clock.now())
        except ValueError as error:  # the catalog's own checks (Plan.__post_init__)
            raise Invalid(str(error)) from None

    outcome = attempt(engine, work)
    return _done(request, viewer, engine, outcome, lambda plan: f"Plan {plan.code} saved.")


@router.post(HOME + "/workspaces/{workspace_id}/account-type", dependencies=[CsrfChecked])
def set_account_type(
    workspace_id: str,
    request: Request,
    viewer: OperatorViewer,
    engine: EngineDep,
    clock: ClockDep,
    cards: CardsDep,
    form: FormFields,
) -> Response:
    outcome = attempt(
        engine,
        lambda session: accounts.set_account_type(
            session,
            workspace_id,
            form.get("account_type", ""),
            actor=viewer.actor,
            cards=cards,
            now=clock.now(),
        ),
    )
    return _done(
        request,
        viewer,
        engine,
        outcome,
        lambda move: f"The workspace is now {move.after}; {len(move.moved)} apps moved.",
    )
