"""Moving a workspace to or from the enterprise account type (SPEC §3.5; operators only).

Every app moves with it, at once: to the ``enterprise`` contract plan, or back to
pay-as-you-go (``standard``). The current period ends at the move and the new plan's
first period starts; nothing is prorated (an enterprise contract is settled outside the
console; an operator may grant credit). Cancelled apps stay cancelled, on their plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.audit.service import Action, Actor, record, target
from botbill.kit.instants import Micros
from botbill.kit.problems import Conflict, Invalid, NotFound
from botbill.orders.providers import CardProvider
from botbill.plans.catalog import ENTERPRISE
from botbill.plans.catalog_store import catalog, ensure_catalog
from botbill.plans.renewals import fail_unpaid_fee, lock_current
from botbill.plans.service import CANCELLED
from botbill.plans.switching import switch_now
from botbill.workspaces.models import AccountType, App, Workspace

ACCOUNT_TYPES = tuple(AccountType)
SELF_SERVE_PLAN = "standard"
"""Where an enterprise workspace's apps go when the contract ends: pay-as-you-go."""


@dataclass(slots=True)
class AccountMove:
    workspace_id: str
    before: str
    after: str
    moved: list[str] = field(default_factory=list)
    """The apps whose plan changed."""
    kept: list[str] = field(default_factory=list)
    """Cancelled apps, left as they are."""


def set_account_type(
    session: Session,
    workspace_id: str,
    account_type: str,
    *,
    actor: Actor,
    cards: CardProvider,
    now: Micros,
) -> AccountMove:
    """Move the workspace and its apps; recorded in the workspace's audit log."""
    if account_type not in ACCOUNT_TYPES:
        raise Invalid.at(
            ["body", "account_type"], f"an account type is one of {', '.join(ACCOUNT_TYPES)}"
        )
    workspace = session.scalars(
        select(Workspace).where(Workspace.id == workspace_id).with_for_update()
    ).one_or_none()
    if workspace is None:
        raise NotFound(f"no workspace {workspace_id!r}")
    if workspace.account_type == account_type:
        raise Conflict(f"the workspace is already {account_type}")
    ensure_catalog(session, now=now)
    code = ENTERPRISE if account_type == AccountType.ENTERPRISE else SELF_SERVE_PLAN
    target_plan = catalog(session)[code]
    move = AccountMove(workspace.id, workspace.account_type, account_type)
    app_ids = session.scalars(
        select(App.id).where(App.workspace_id == workspace.id).order_by(App.id)
    )
    for app_id in list(app_ids):  # in key order: writers never deadlock
        subscription = lock_current(session, workspace, app_id, cards=cards, now=now)
        if subscription.state == CANCELLED:
            move.kept.append(app_id)
            continue
        reason = f"the workspace moved to the {account_type} account type"
        fail_unpaid_fee(session, subscription, reason=reason, now=now)
        switch_now(session, workspace, subscription, target=target_plan, now=now)
        move.moved.append(app_id)
    workspace.account_type = account_type
    record(
        session,
        workspace_id=workspace.id,
        actor=actor,
        action=Action.WORKSPACE_ACCOUNT_TYPE_CHANGED,
        target=target("workspace", workspace.id),
        before={"account_type": move.before},
        after={"account_type": move.after, "apps_moved": move.moved, "plan": target_plan.code},
        now=now,
    )
    session.flush()
    return move
