from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from botbill.apps.models import App
from botbill.apps.service import get_app, list_apps, owner_emails
from botbill.audit.service import Action, Actor, record, target
from botbill.kit.db import unit_of_work
from botbill.kit.instants import from_micros
from botbill.kit.pagination import (
    CursorQuery,
    LimitQuery,
    Page,
    cut_page,
    decode_cursor,
)
from botbill.kit.problems import NotFound
from botbill.kit.timezones import zone
from botbill.kit.web import ClockDep, EngineDep
from botbill.operators.auth import OperatorDep
from botbill.orders import idempotency
from botbill.orders.providers import PaymentMethod
from botbill.orders.schemas import order_out
from botbill.orders.web import CardsDep, IdempotencyKey, SettingsDep
from botbill.plans import accounts, service
from botbill.plans.catalog import Plan
from botbill.plans.catalog_store import catalog
from botbill.plans.changes import ChangeKind
from botbill.plans.jobs import bring_current
from botbill.plans.overview import Overview, Unbooked, overviews
from botbill.plans.schemas import (
    AccountTypeChange,
    AccountTypeOut,
    AutoReload,
    Balance,
    Included,
    NoticeOut,
    PlanChangeOut,
    PlanChangeRequest,
    PlanList,
    PlanOut,
    Prices,
    ScheduledChange,
    SubscriptionDetail,
    SubscriptionSettings,
    SubscriptionSummary,
    Used,
)
from botbill.rating.service import settle_app
from botbill.rating.unbooked import unbooked
from botbill.wallet import auto_reload
from botbill.workspaces.auth import Admin, Caller, Reader
from botbill.workspaces.models import Workspace
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


def _local(instant: int, workspace: Workspace) -> datetime:
    return from_micros(instant).astimezone(zone(workspace.timezone))


def _summary_fields(
    overview: Overview, workspace: Workspace, emails: dict[str, str]
) -> dict[str, Any]:
    app, subscription = overview.app, overview.subscription
    return {
        "app_id": app.id,
        "app_name": app.name,
        "owner_email": emails.get(app.owner_id) if app.owner_id else None,
        "plan": overview.plan.code,
        "status": overview.status.value,
        "balance": Balance(amount=overview.balance.amount, currency=overview.balance.currency),
        "period_start": _local(subscription.period_start, workspace),
        "period_end": _local(subscription.period_end, workspace),
        "notices": [NoticeOut(type=n.type, detail=n.detail) for n in overview.notices],
    }


def _detail_fields(
    overview: Overview, workspace: Workspace, emails: dict[str, str]
) -> dict[str, Any]:
    subscription, period = overview.subscription, overview.period
    scheduled = overview.scheduled_plan
    return {
        **_summary_fields(overview, workspace, emails),
        "included": Included(
            billing_sessions=period.included_billing, voice_sessions=period.included_voice
        ),
        "used": Used(
            billing_sessions=overview.used.usage + overview.used.alert,
            usage_sessions=overview.used.usage,
            alert_sessions=overview.used.alert,
            voice_sessions=overview.used.voice,
        ),
        "scheduled_change": None
        if scheduled is None
        else ScheduledChange(plan=scheduled.code, at=_local(subscription.period_end, workspace)),
        "auto_reload": AutoReload(
            enabled=subscription.auto_reload_enabled,
            threshold=subscription.auto_reload_threshold,
            amount=subscription.auto_reload_amount,
        ),
        "renews": not overview.plan.is_trial
        and subscription.state == service.ACTIVE
        and (subscription.renew or overview.plan.fee_amount == 0),
    }


_AUDITED = {"plan", "status", "period_start", "period_end", "scheduled_change", "renews"}


def _audited_state(
    session: Session, workspace: Workspace, app: App, *, now: int, low_balance: int
) -> dict[str, Any]:
    """What the audit log keeps of a subscription, before or after an action (nothing
    for an app whose subscription starts with this action)."""
    found = overviews(session, workspace, [app], now=now, low_balance=low_balance)
    if not found:
        return {}
    overview = found[0]
    detail = SubscriptionDetail(**_detail_fields(overview, workspace, {}))
    return detail.model_dump(mode="json", include=_AUDITED | {"auto_reload"})


def _audit(
    session: Session,
    caller: Caller,
    action: Action,
    app: App,
    *,
    before: dict[str, Any],
    after: dict[str, Any],
    now: int,
) -> None:
    changed = sorted(name for name in after if before.get(name) != after[name])
    record(
        session,
        workspace_id=caller.workspace_id,
        actor=Actor.admin(caller.key_id),
        action=action,
        target=target("app", app.id),
        before={name: before.get(name) for name in changed},
        after={name: after[name] for name in changed},
        now=now,
    )


def _answer(
    session: Session,
    caller: Caller,
    action: Action,
    workspace: Workspace,
    app: App,
    *,
    before: dict[str, Any],
    now: int,
    low_balance: int,
) -> SubscriptionDetail:
    """The subscription after an admin's action, which is recorded in the audit log."""
    overview = _overview(session, workspace, app, now=now, low_balance=low_balance)
    detail = SubscriptionDetail(**_detail_fields(overview, workspace, owner_emails(session, [app])))
    after = detail.model_dump(mode="json", include=_AUDITED | {"auto_reload"})
    _audit(session, caller, action, app, before=before, after=after, now=now)
    return detail


def _overview(
    session: Session,
    workspace: Workspace,
    app: App,
    *,
    now: int,
    low_balance: int,
    pending: Mapping[str, Unbooked] | None = None,
) -> Overview:
    found = overviews(session, workspace, [app], now=now, low_balance=low_balance, unbooked=pending)
    if not found:  # created between the refresh and this read
        raise NotFound(f"app {app.id!r} has no subscription yet")
    return found[0]


@router.get("/v1/subscriptions")
def list_subscriptions(
    caller: Reader,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    cards: CardsDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[SubscriptionSummary]:
    """The Plan list: every app's plan, status, balance, period end and notices."""
    position = decode_cursor(cursor, arity=1)
    after = str(position[0]) if position else None
    now = clock.now()
    settle_app(engine, clock, workspace_id=caller.workspace_id, app_id=None, cards=cards)
    bring_current(engine, workspace_id=caller.workspace_id, app_id=None, cards=cards, now=now)
    with unit_of_work(engine, write=False, snapshot=True) as session:
        workspace = get_workspace(session, caller.workspace_id)
        apps = list_apps(session, workspace.id, after=after, limit=limit + 1)
        apps, next_cursor = cut_page(apps, limit, lambda a: [a.id])
        emails = owner_emails(session, apps)
        found = overviews(
            session,
            workspace,
            apps,
            now=now,
            low_balance=settings.low_balance_threshold,
            unbooked=unbooked(session, workspace, [app.id for app in apps], now=now),
        )
        items = [SubscriptionSummary(**_summary_fields(o, workspace, emails)) for o in found]
    return Page(items=items, next_cursor=next_cursor)


@router.get("/v1/apps/{app_id}/subscription")
def get_subscription(
    app_id: str,
    caller: Reader,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    cards: CardsDep,
) -> SubscriptionDetail:
    """Plan and usage details: the Plan list's fields, this period's allowance and use."""
    now = clock.now()
    with unit_of_work(engine, write=False) as session:
        get_app(session, caller.workspace_id, app_id)
    settle_app(engine, clock, workspace_id=caller.workspace_id, app_id=app_id, cards=cards)
    bring_current(engine, workspace_id=caller.workspace_id, app_id=app_id, cards=cards, now=now)
    with unit_of_work(engine, write=False, snapshot=True) as session:
        workspace = get_workspace(session, caller.workspace_id)
        app = get_app(session, workspace.id, app_id)
        overview = _overview(
            session,
            workspace,
            app,
            now=now,
            low_balance=settings.low_balance_threshold,
            pending=unbooked(session, workspace, [app.id], now=now),
        )
        return SubscriptionDetail(
            **_detail_fields(overview, workspace, owner_emails(session, [app]))
        )


@router.post(
    "/v1/apps/{app_id}/subscription/change",
    response_model=PlanChangeOut,
    responses={
        202: {"model": PlanChangeOut, "description": "A downgrade, scheduled for period end"},
        402: {"description": "Neither the payment method nor the balance pays the fee"},
    },
)
def change_plan(
    app_id: str,
    body: PlanChangeRequest,
    request: Request,
    caller: Admin,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    cards: CardsDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Upgrade at once (with its order), or schedule a downgrade for the period's end."""
    now = clock.now()
    with unit_of_work(engine, write=True) as session:
        workspace = get_workspace(session, caller.workspace_id)
        app = get_app(session, workspace.id, app_id)
        request_hash = idempotency.fingerprint("POST", request.url.path, body.model_dump())
        if key is not None:
            stored = idempotency.claim(
                session, workspace_id=workspace.id, key=key, request_hash=request_hash, now=now
            )
            if stored is not None:
                return _replay(stored)
        low = settings.low_balance_threshold
        before = _audited_state(session, workspace, app, now=now, low_balance=low)
        outcome = service.change_plan(
            session,
            workspace,
            app_id,
            plan_code=body.plan,
            method=PaymentMethod(body.payment_method) if body.payment_method else None,
            token=body.token,
            cards=cards,
            now=now,
        )
        overview = _overview(
            session, workspace, app, now=now, low_balance=settings.low_balance_threshold
        )
        result = PlanChangeOut(
            **_detail_fields(overview, workspace, owner_emails(session, [app])),
            change=outcome.kind.value,
            order=None if outcome.order is None else order_out(outcome.order),
        )
        code = status.HTTP_202_ACCEPTED if outcome.kind is ChangeKind.DOWNGRADE else 200
        body_json = result.model_dump(mode="json")
        after = {name: body_json[name] for name in _AUDITED | {"auto_reload"}}
        _audit(
            session,
            caller,
            Action.SUBSCRIPTION_PLAN_CHANGED,
            app,
            before=before,
            after={**after, "order_id": None if outcome.order is None else outcome.order.id},
            now=now,
        )
        if key is not None:
            idempotency.complete(
                session, workspace_id=workspace.id, key=key, status_code=code, body=body_json
            )
    return JSONResponse(body_json, status_code=code)


def _replay(stored: idempotency.Stored) -> JSONResponse:
    return JSONResponse(
        stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
    )


@router.delete("/v1/apps/{app_id}/subscription/scheduled-change")
def withdraw_scheduled_change(
    app_id: str,
    caller: Admin,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    cards: CardsDep,
) -> SubscriptionDetail:
    """Withdraw a scheduled downgrade: the plan renews as it is."""
    now = clock.now()
    with unit_of_work(engine, write=True) as session:
        workspace = get_workspace(session, caller.workspace_id)
        app = get_app(session, workspace.id, app_id)
        low = settings.low_balance_threshold
        before = _audited_state(session, workspace, app, now=now, low_balance=low)
        service.withdraw_scheduled_change(session, workspace, app_id, cards=cards, now=now)
        return _answer(
            session,
            caller,
            Action.SUBSCRIPTION_CHANGE_WITHDRAWN,
            workspace,
            app,
            before=before,
            now=now,
            low_balance=low,
        )


@router.patch(
    "/v1/apps/{app_id}/subscription",
    responses={
        403: {"description": "An enterprise workspace (its subscriptions are a contract)"},
        409: {"description": "The subscription is cancelled, or auto-reload has no saved card"},
    },
)
def update_subscription(
    app_id: str,
    body: SubscriptionSettings,
    caller: Admin,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    cards: CardsDep,
) -> SubscriptionDetail:
    """Renewal on or off, and auto-reload; fields left out keep their values.

    - ``renew: false``: a fee plan is not renewed; it shows ``plan_expiring`` 7 days
      ahead and expires at the period's end.
    - ``auto_reload``: when the balance falls below ``threshold``, an add-funds order of
      ``amount`` is charged to the app's saved card (the last card that paid), once per
      dip below the threshold. Turning it on needs a saved card (409 without one).
    """
    now = clock.now()
    with unit_of_work(engine, write=True) as session:
        workspace = get_workspace(session, caller.workspace_id)
        app = get_app(session, workspace.id, app_id)
        service.refuse_contract(workspace)
        subscription = service.lock_current(session, workspace, app_id, cards=cards, now=now)
        service.refuse_cancelled(subscription)
        low = settings.low_balance_threshold
        before = _audited_state(session, workspace, app, now=now, low_balance=low)
        if body.renew is not None:
            service.set_renewal(subscription, renew=body.renew, now=now)
        if body.auto_reload is not None:
            auto_reload.configure(
                subscription,
                enabled=body.auto_reload.enabled,
                threshold=body.auto_reload.threshold,
                amount=body.auto_reload.amount,
                limits=(settings.funds_min_amount, settings.funds_max_amount),
                currency=workspace.currency,
                now=now,
            )
        session.flush()
        return _answer(
            session,
            caller,
            Action.SUBSCRIPTION_SETTINGS_CHANGED,
            workspace,
            app,
            before=before,
            now=now,
            low_balance=low,
        )


@router.post(
    "/v1/apps/{app_id}/subscription/cancel",
    responses={
        403: {"description": "An enterprise workspace (its subscriptions are a contract)"},
        409: {"description": "The subscription is already cancelled"},
    },
)
def cancel_subscription(
    app_id: str,
    caller: Admin,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    cards: CardsDep,
) -> SubscriptionDetail:
    """Cancel the app's subscription at once: its entitlement is refused (``cancelled``).

    Nothing is refunded (the running fee stays paid, the balance stays with the app),
    periods stop rolling and auto-reload stops. The app comes back only through a plan
    change (``POST /v1/apps/{app_id}/subscription/change``), which applies at once.
    """
    now = clock.now()
    with unit_of_work(engine, write=True) as session:
        workspace = get_workspace(session, caller.workspace_id)
        app = get_app(session, workspace.id, app_id)
        low = settings.low_balance_threshold
        before = _audited_state(session, workspace, app, now=now, low_balance=low)
        service.cancel(session, workspace, app_id, cards=cards, now=now)
        return _answer(
            session,
            caller,
            Action.SUBSCRIPTION_CANCELLED,
            workspace,
            app,
            before=before,
            now=now,
            low_balance=low,
        )


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
