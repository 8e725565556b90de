"""Console pages: the money forms of a bot's Manage page — add funds (test card or
wire, within the limits), renewal and auto-reload.

Like the rest of the page (:mod:`botbill.console.plan_manage`), each form builds the API's
request schema and calls the service its ``/v1`` route calls.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from botbill.console.access import CsrfChecked
from botbill.console.amounts import minor_units
from botbill.console.pages import ConsoleRoute
from botbill.console.plan_manage import PATH, FormFields, Manage, ManageDep
from botbill.console.writes import invalid_form
from botbill.kit.db import unit_of_work
from botbill.kit.problems import Invalid
from botbill.orders.schemas import FundsRequest
from botbill.subscriptions import service as subscriptions
from botbill.subscriptions.schemas import AutoReloadSettings, SubscriptionSettings
from botbill.wallet import service as wallet
from botbill.workspaces.service import get_workspace

router = APIRouter(route_class=ConsoleRoute)

WIRE_PLACED = "The wire order is placed; the funds land when an operator confirms receipt."


def _currency(manage: Manage) -> str:
    with unit_of_work(manage.engine, write=False) as session:
        return get_workspace(session, manage.viewer.workspace_id).currency


@router.post(f"{PATH}/funds", dependencies=[CsrfChecked])
def add_funds_form(manage: ManageDep, form: FormFields) -> Response:
    outcome: Any
    amount, token = form.get("amount", ""), form.get("token", "")
    payment_method = form.get("payment_method", "card")
    try:
        funds = FundsRequest.model_validate(
            {
                "amount": minor_units(amount, _currency(manage)),
                "payment_method": payment_method,
                "token": (token.strip() or None) if payment_method == "card" else None,
            }
        )
    except ValueError as error:  # pydantic's ValidationError is a ValueError too
        outcome = (
            invalid_form(error)
            if isinstance(error, ValidationError)
            else Invalid(f"amount: {error}")
        )
    else:
        limits = (manage.settings.funds_min_amount, manage.settings.funds_max_amount)
        outcome = manage.attempt(
            lambda session: wallet.add_funds(
                session,
                workspace_id=manage.viewer.workspace_id,
                app_id=manage.app_id,
                funds=funds,
                actor=manage.viewer.actor,
                request=None,
                limits=limits,
                cards=manage.cards,
                now=manage.clock.now(),
            )
        )
    return manage.answer(
        outcome,
        done=lambda reply: (
            (f"?wire={reply.body['id']}", WIRE_PLACED)
            if reply.body["payment_method"] == "wire"
            else ("", "The funds were added to the balance.")
        ),
    )


@router.post(f"{PATH}/settings", dependencies=[CsrfChecked])
def settings_form(manage: ManageDep, form: FormFields) -> Response:
    outcome: Any
    renew, auto_reload = form.get("renew", ""), form.get("auto_reload", "")
    threshold, reload_amount = form.get("threshold", ""), form.get("reload_amount", "")
    currency = _currency(manage)
    try:
        reload: dict[str, Any] = {"enabled": auto_reload == "on"}
        if threshold.strip():
            reload["threshold"] = minor_units(threshold, currency)
        if reload_amount.strip():
            reload["amount"] = minor_units(reload_amount, currency)
        changes = SubscriptionSettings(
            renew=renew == "on", auto_reload=AutoReloadSettings.model_validate(reload)
        )
    except ValueError as error:
        outcome = invalid_form(error) if isinstance(error, ValidationError) else Invalid(str(error))
    else:
        settings = manage.settings
        outcome = manage.attempt(
            lambda session: subscriptions.update_settings(
                session,
                workspace_id=manage.viewer.workspace_id,
                app_id=manage.app_id,
                settings=changes,
                actor=manage.viewer.actor,
                cards=manage.cards,
                funds_limits=(settings.funds_min_amount, settings.funds_max_amount),
                low_balance=settings.low_balance_threshold,
                now=manage.clock.now(),
            )
        )
    return manage.answer(outcome, done=lambda _: ("", "The settings were saved."))
