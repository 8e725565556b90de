"""The sweep that announces what time and usage alone change: an app's entitlement
(``entitlement.changed``) and the notices of SPEC §3.6 that no request writes
(``plan_expiring``, ``plan_expired``, ``renewal_failed``, ``low_balance``,
``insufficient_funds``, ``promo_credits_expiring``).

These follow from the state as it is at an instant (a period ending, a balance drawn
down by rating, a trial running out), so the Plan list derives them on every read. The
sweep derives them the same way (``subscriptions.overview``) for the apps of workspaces
with an endpoint listening, compares them with what was last announced
(``webhooks.models.AnnouncedState``), and in one transaction announces each appearance
and records the new state: each occurrence is announced once, a notice that goes and
comes back is a new occurrence, and a state that never committed is never seen. An app
seen for the first time is recorded without an announcement (its state is not news).

The comparison runs in a read snapshot; only a workspace where something changed takes
a write transaction, which locks the workspace's endpoints (``SKIP LOCKED``) so two
sweepers never announce the same change, and derives the states again under that lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from botbill.kit.clock import Clock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import Micros
from botbill.kit.money import Money
from botbill.plans.notices import NoticeType
from botbill.rating.unbooked import unbooked
from botbill.subscriptions.overview import overviews
from botbill.webhooks.events import EventType
from botbill.webhooks.models import AnnouncedState, WebhookEndpoint
from botbill.webhooks.outbox import announce
from botbill.workspaces.models import App, Workspace

SWEPT_NOTICES = frozenset(
    {
        NoticeType.PLAN_EXPIRING,
        NoticeType.PLAN_EXPIRED,
        NoticeType.RENEWAL_FAILED,
        NoticeType.LOW_BALANCE,
        NoticeType.INSUFFICIENT_FUNDS,
        NoticeType.PROMO_CREDITS_EXPIRING,
    }
)
"""The rest (``downgrade_scheduled``, ``extension_*``) are announced by the request that
makes them, in its own transaction."""

BALANCE_NOTICES = frozenset({NoticeType.LOW_BALANCE.value, NoticeType.INSUFFICIENT_FUNDS.value})
"""Notices whose payload carries the balance that raised them."""

SWEPT_TYPES = frozenset(
    {EventType(n.value) for n in SWEPT_NOTICES} | {EventType.ENTITLEMENT_CHANGED}
)


@dataclass(frozen=True, slots=True)
class AppState:
    active: bool
    reason: str | None
    notices: Mapping[str, str]
    """Notice type → its detail, for the swept types only."""
    balance: Money


def listening_workspaces(session: Session) -> list[str]:
    """Workspaces with an enabled endpoint for at least one swept type."""
    rows = session.execute(
        select(WebhookEndpoint.workspace_id, WebhookEndpoint.event_types).where(
            WebhookEndpoint.enabled.is_(True)
        )
    )
    swept = {t.value for t in SWEPT_TYPES}
    return sorted({ws for ws, types in rows if swept & set(types)})


def current_states(
    session: Session, workspace: Workspace, *, now: Micros, low_balance: int
) -> dict[str, AppState]:
    """Every app's entitlement and swept notices as the Plan list would show them now."""
    apps = list(session.scalars(select(App).where(App.workspace_id == workspace.id)))
    pending = unbooked(session, workspace, [app.id for app in apps], now=now)
    found = overviews(session, workspace, apps, now=now, low_balance=low_balance, unbooked=pending)
    return {
        overview.app.id: AppState(
            active=overview.decision.active,
            reason=None if overview.decision.reason is None else overview.decision.reason.value,
            notices={n.type.value: n.detail for n in overview.notices if n.type in SWEPT_NOTICES},
            balance=overview.balance,
        )
        for overview in found
    }


def _stored(session: Session, workspace_id: str) -> dict[str, AnnouncedState]:
    rows = session.scalars(
        select(AnnouncedState).where(AnnouncedState.workspace_id == workspace_id)
    )
    return {row.app_id: row for row in rows}


def _differs(state: AppState, stored: AnnouncedState | None) -> bool:
    return (
        stored is None
        or stored.active != state.active
        or stored.reason != state.reason
        or set(stored.notices) != set(state.notices)
    )


def _announce_changes(
    session: Session, workspace_id: str, states: Mapping[str, AppState], *, now: Micros
) -> int:
    stored = _stored(session, workspace_id)
    announced = 0
    for app_id, state in sorted(states.items()):
        before = stored.get(app_id)
        if not _differs(state, before):
            continue
        if before is None:
            session.add(
                AnnouncedState(
                    workspace_id=workspace_id,
                    app_id=app_id,
                    active=state.active,
                    reason=state.reason,
                    notices=sorted(state.notices),
                    recorded_at=now,
                )
            )
            continue
        for kind in sorted(state.notices.keys() - set(before.notices)):
            notice: dict[str, object] = {"app_id": app_id, "detail": state.notices[kind]}
            if kind in BALANCE_NOTICES:
                notice["balance"] = {
                    "amount": state.balance.amount,
                    "currency": state.balance.currency,
                }
            announce(session, workspace_id=workspace_id, type=EventType(kind), data=notice, now=now)
            announced += 1
        if before.active != state.active:
            data: dict[str, object] = {
                "app_id": app_id,
                "active": state.active,
                "reason": state.reason,
                "previous_reason": before.reason,
            }
            announce(
                session,
                workspace_id=workspace_id,
                type=EventType.ENTITLEMENT_CHANGED,
                data=data,
                now=now,
            )
            announced += 1
        before.active, before.reason = state.active, state.reason
        before.notices = sorted(state.notices)
        before.recorded_at = now
    session.flush()
    return announced


def sweep_workspace(engine: Engine, workspace_id: str, *, now: Micros, low_balance: int) -> int:
    """Announce what changed in one workspace since the last sweep; how many events."""
    with unit_of_work(engine, write=False, snapshot=True) as session:
        workspace = session.get(Workspace, workspace_id)
        if workspace is None:
            return 0
        states = current_states(session, workspace, now=now, low_balance=low_balance)
        stored = _stored(session, workspace_id)
        if not any(_differs(state, stored.get(app)) for app, state in states.items()):
            return 0
    with unit_of_work(engine, write=True) as session:
        held = session.scalars(
            select(WebhookEndpoint.id)
            .where(WebhookEndpoint.workspace_id == workspace_id)
            .with_for_update(skip_locked=True)
        ).all()
        workspace = session.get(Workspace, workspace_id)
        if not held or workspace is None:
            return 0  # another sweeper has this workspace now
        states = current_states(session, workspace, now=now, low_balance=low_balance)
        return _announce_changes(session, workspace_id, states, now=now)


def announce_states(engine: Engine, clock: Clock, *, low_balance: int) -> int:
    """One sweep over every listening workspace; how many events it announced."""
    with unit_of_work(engine, write=False) as session:
        workspace_ids = listening_workspaces(session)
    return sum(
        sweep_workspace(engine, ws, now=clock.now(), low_balance=low_balance)
        for ws in workspace_ids
    )
