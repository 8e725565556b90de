from __future__ import annotations

from fastapi import APIRouter

from botbill.audit.service import Actor
from botbill.auth.dependencies import OperatorDep, Reader
from botbill.kit.db import unit_of_work
from botbill.kit.web import ClockDep, EngineDep
from botbill.orders.web import CardsDep
from botbill.plans import accounts
from botbill.plans.catalog import Plan
from botbill.plans.catalog_store import catalog
from botbill.plans.schemas import (
    AccountTypeChange,
    AccountTypeOut,
    Included,
    PlanList,
    PlanOut,
    Prices,
)
from botbill.workspaces.service import get_workspace

router = APIRouter(tags=["plans"])


def plan_out(plan: Plan, currency: str) -> PlanOut:
    return PlanOut(
        code=plan.code,
        name=plan.name,
        period=plan.period.value,
        period_days=plan.trial_days if plan.is_trial else None,
        fee=plan.fee,
        currency=currency,
        included=Included(
            billing_sessions=plan.included_billing_sessions,
            voice_sessions=plan.included_voice_sessions,
        ),
        prices=Prices(
            usage=plan.usage_price,
            alert=plan.alert_price,
            voice=plan.voice_price,
            seat_day=plan.seat_day_price,
        ),
        contract=plan.contract,
    )


@router.get("/v1/plans")
def list_plans(caller: Reader, engine: EngineDep) -> PlanList:
    """The plan catalog; amounts are minor units of the workspace's currency."""
    with unit_of_work(engine, write=False) as session:
        workspace = get_workspace(session, caller.workspace_id)
        plans = catalog(session)
        return PlanList(items=[plan_out(p, workspace.currency) for p in plans.values()])


@router.put(
    "/v1/workspaces/{workspace_id}/account-type",
    responses={409: {"description": "The workspace already has this account type"}},
)
def set_account_type(
    workspace_id: str,
    body: AccountTypeChange,
    operator: OperatorDep,
    engine: EngineDep,
    clock: ClockDep,
    cards: CardsDep,
) -> AccountTypeOut:
    """Operators: move a workspace to or from the enterprise account type.

    Every app moves at once: to the ``enterprise`` contract plan, or back to
    pay-as-you-go (``standard``). The current period ends now; nothing is prorated.
    """
    with unit_of_work(engine, write=True) as session:
        move = accounts.set_account_type(
            session,
            workspace_id,
            body.account_type,
            actor=Actor.operator(operator.key_id),
            cards=cards,
            now=clock.now(),
        )
    return AccountTypeOut(
        workspace_id=move.workspace_id,
        account_type=move.after,
        apps_moved=move.moved,
        apps_kept=move.kept,
    )
